"""The proposal agents (AGENTS.md "Proposal"): pricing, proposal_creation, proposal_follow_up and
contract_signature, one module each; registered on import."""

from sales.agents.proposal import creation, document, follow_up, pricing, signature

__all__ = ["creation", "document", "follow_up", "pricing", "signature"]
