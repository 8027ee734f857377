"""The call agents (AGENTS.md "Meeting" and "Proposal"): from a meeting's briefing to the recorded
call, its notes, measures and recap, and the requirements a proposal is drafted from."""
