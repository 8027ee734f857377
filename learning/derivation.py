"""From a group of alike errors to a rule: its type, its executable part and a template text.

Pure functions over plain data (error type, messages, run inputs) so they are tested without a
database; ``learning.services.extraction`` feeds them from ErrorLog and AgentRun rows.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from learning.conditions import MAX_PATTERN, describe, is_empty, is_missing, lookup, same_value

RETRY, ESCALATE, VALIDATE, ALWAYS = "retry", "escalate", "validate", "always"

_RATE_LIMIT = re.compile(r"rate.?limit|throttl|too many requests|\b429\b|quota", re.IGNORECASE)
_TRANSIENT = re.compile(
    r"timeout|timed out|temporar|unavailable|connection|reset by peer|\b50[234]\b|circuit|transient|try again",
    re.IGNORECASE,
)
_AUTH = re.compile(
    r"auth|permission|forbidden|denied|credential|\b40[13]\b|policy|not allowed|suppress|api key|invalid key",
    re.IGNORECASE,
)
_VALIDATION_TYPE = re.compile(
    r"validation|value|invalid|missing|key|type|permanent|badrequest|unprocessable|schema", re.IGNORECASE
)
_VALIDATION_MSG = re.compile(
    r"missing|required|invalid|empty|\bno\b|without|must|expected|not found|malformed|blank", re.IGNORECASE
)
# A field must be empty in at least this share of failing runs and at most the other share of successes.
FAIL_SHARE = 0.9
OK_SHARE = 0.1
MAX_DEPTH = 3
RETRY_DELAYS = {"rate_limit": [60, 300, 900], "transient": [30, 120, 600]}


@dataclass(frozen=True)
class ErrorGroup:
    agent_name: str
    provider: str
    error_type: str
    step: str
    fingerprint: str
    pattern: str
    message: str
    occurrences: int
    transient_share: float


@dataclass
class Proposal:
    rule_type: str
    text: str
    condition: dict[str, Any] = field(default_factory=dict)
    action_params: dict[str, Any] = field(default_factory=dict)
    evidence: dict[str, Any] = field(default_factory=dict)


def error_kind(group: ErrorGroup) -> str:
    """rate_limit, transient, auth, validation or other."""
    haystack = f"{group.error_type} {group.message}"
    if _RATE_LIMIT.search(haystack):
        return "rate_limit"
    if group.transient_share >= 0.5 or _TRANSIENT.search(group.error_type) or _TRANSIENT.search(group.message):
        return "transient"
    if _AUTH.search(group.error_type) or _AUTH.search(group.message):
        return "auth"
    if _VALIDATION_TYPE.search(group.error_type.rsplit(".", 1)[-1]) or _VALIDATION_MSG.search(group.message):
        return "validation"
    return "other"


def field_paths(data: Any, prefix: str = "", depth: int = 0) -> set[str]:
    """Dotted paths of the keys in a nested dict (lists are leaves)."""
    if not isinstance(data, Mapping) or depth >= MAX_DEPTH:
        return set()
    paths = set()
    for key, value in data.items():
        path = f"{prefix}{key}"
        paths.add(path)
        paths |= field_paths(value, f"{path}.", depth + 1)
    return paths


def _mentions(message: str, path: str) -> bool:
    words = {w for w in re.split(r"[^a-z0-9]+", path.lower()) if len(w) > 2 and w not in {"the", "and", "_id"}}
    lowered = message.lower()
    return any(w in lowered for w in words)


def derive_condition(
    failing: Sequence[Mapping[str, Any]], succeeding: Sequence[Mapping[str, Any]], *, message: str = ""
) -> tuple[dict[str, Any], dict[str, Any]]:
    """An input condition true for (nearly) all failing runs and (nearly) no succeeding runs.

    Tries "field missing/empty" first, then "field equals a value" for short scalar values. Returns
    ({}, evidence) when nothing discriminates (or there are no succeeding runs to compare with).
    """
    evidence: dict[str, Any] = {"failing_runs": len(failing), "succeeding_runs": len(succeeding)}
    if not failing or not succeeding:
        return {}, evidence
    paths = set().union(*(field_paths(d) for d in [*failing, *succeeding]))
    best: tuple[tuple[float, int, int, str], dict[str, Any], dict[str, Any]] | None = None
    for path in sorted(paths):
        values_fail = [lookup(d, path) for d in failing]
        values_ok = [lookup(d, path) for d in succeeding]
        fail_share = sum(is_empty(v) for v in values_fail) / len(failing)
        ok_share = sum(is_empty(v) for v in values_ok) / len(succeeding)
        candidates: list[tuple[dict[str, Any], float, float]] = []
        if fail_share >= FAIL_SHARE and ok_share <= OK_SHARE:
            all_missing = all(is_missing(v) for v in values_fail if is_empty(v))
            op = "missing" if all_missing and all(is_missing(v) for v in values_ok if is_empty(v)) else "empty"
            candidates.append(({"field": path, "op": op}, fail_share, ok_share))
        scalars = [v for v in values_fail if isinstance(v, str | bool | int) and len(str(v)) <= 64]
        if scalars and len(scalars) == len(values_fail):
            top = max(set(scalars), key=lambda v: (scalars.count(v), str(v)))
            share = scalars.count(top) / len(failing)
            ok_eq = sum(1 for v in values_ok if same_value(v, top)) / len(succeeding)
            if share >= FAIL_SHARE and ok_eq <= OK_SHARE and len(failing) >= 2:
                candidates.append(({"field": path, "op": "equals", "value": top}, share, ok_eq))
        for condition, f_share, o_share in candidates:
            # Prefer the sharpest split, then a field the message names, then emptiness over equality.
            key = (f_share - o_share, int(_mentions(message, path)), int(condition["op"] != "equals"), path)
            if best is None or key > best[0]:
                best = (key, condition, {"fail_share": round(f_share, 4), "ok_share": round(o_share, 4)})
    if best is None:
        return {}, evidence
    evidence.update(best[2])
    return best[1], evidence


def template_text(kind: str, group: ErrorGroup, condition: Mapping[str, Any], action_params: Mapping[str, Any]) -> str:
    """A deterministic human text for the rule (used when no LLM drafts it)."""
    who = group.agent_name or group.provider or "all agents"
    short_type = group.error_type.rsplit(".", 1)[-1]
    where = f" at step '{group.step}'" if group.step else ""
    seen = f"seen {group.occurrences} times{where}"
    if kind in ("rate_limit", "transient"):
        delays = ", ".join(f"{d}s" for d in action_params.get("delays", []))
        cause = "rate limits" if kind == "rate_limit" else "transient failures"
        return f"{who}: {short_type} here is one of the {cause} that clear up with time; retry after {delays} ({seen})."
    if kind == "auth":
        fix = "retrying cannot fix it; hand it to a human"
        return f"{who}: {short_type} is an authorisation/policy failure; {fix} ({seen})."
    pattern = group.pattern.strip().rstrip(".")[:160]
    if condition:
        return (
            f"{who}: do not start the work when {describe(condition)}; it fails with {short_type} '{pattern}' ({seen})."
        )
    return f"{who}: avoid the known failure {short_type} '{pattern}' ({seen}); check the inputs it depends on first."


@dataclass
class NoRule:
    """Why no rule that can act fits a group of alike errors (shown on the error group in the admin)."""

    reason: str
    evidence: dict[str, Any] = field(default_factory=dict)


Record = Mapping[str, Mapping[str, Any]]  # path -> descriptor (learning/facts_record.py)


def _empty(record: Record, path: str) -> bool:
    found = record.get(path)
    return found is None or not found.get("present", True)


def _value(record: Record, path: str) -> Any:
    found = record.get(path)
    return found.get("v", _NO_VALUE) if found is not None else _NO_VALUE


def _domain(record: Record, path: str) -> str:
    found = record.get(path)
    return str(found.get("domain", "")) if found is not None else ""


MAX_DOMAINS = 5


def domain_condition(path: str, domains: Sequence[str]) -> dict[str, Any]:
    """A value at ``path`` whose domain part is one of ``domains`` (``gmail.com``, ``x@gmail.com``,
    ``https://gmail.com/...`` alike): the only thing recorded of contact data and URLs is that part."""
    alternatives = "|".join(re.escape(d) for d in sorted(domains))
    return {"field": path, "op": "matches", "value": rf"(?i)(^|[@./])({alternatives})(/.*)?$"}


_DOMAIN_RULE = re.compile(r"^\(\?i\)\(\^\|\[@\./\]\)\((?P<alts>[^()]*)\)\(/\.\*\)\?\$$")


def domains_of(condition: Mapping[str, Any]) -> list[str] | None:
    """The domains of a condition ``domain_condition`` built, or None for any other condition."""
    if not isinstance(condition, Mapping) or condition.get("op") != "matches":
        return None
    found = _DOMAIN_RULE.match(str(condition.get("value", "")))
    if found is None:
        return None
    return [d.replace("\\.", ".").replace("\\-", "-") for d in found.group("alts").split("|") if d]


def _domain_candidate(
    path: str, failing: Sequence[Record], succeeding: Sequence[Record]
) -> tuple[dict[str, Any], float, float] | None:
    """A provider that refuses one kind of record often refuses it by domain (a webmail company
    domain, a blocked TLD): the fewest domains (at most MAX_DOMAINS) covering FAIL_SHARE of the
    failures, when they are rare among successes."""
    failed = [_domain(r, path) for r in failing]
    if not all(failed):
        return None
    counts: dict[str, int] = {}
    for d in failed:
        counts[d] = counts.get(d, 0) + 1
    chosen: list[str] = []
    covered = 0
    for d, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:MAX_DOMAINS]:
        chosen.append(d)
        covered += n
        if covered / len(failing) >= FAIL_SHARE:
            break
    f_share = covered / len(failing)
    if f_share < FAIL_SHARE:
        return None
    condition = domain_condition(path, chosen)
    if len(condition["value"]) > MAX_PATTERN:
        return None
    o_share = sum(1 for r in succeeding if _domain(r, path) in chosen) / len(succeeding)
    return condition, f_share, o_share


_NO_VALUE = object()


def derive_from_records(
    failing: Sequence[Record], succeeding: Sequence[Record], *, known: Callable[[str], bool], message: str = ""
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A condition over input + facts true for (nearly) all failing runs and (nearly) no succeeding
    ones, from their recorded facts; only paths ``known`` accepts (fields of the agent's Facts or
    Input). Tries emptiness, then a shared value (choices, flags, counts), then a numeric bound, then
    a few shared domains (of a domain, an address or a URL).
    Evidence: the shares, and the counts of failing and succeeding runs the condition matched."""
    evidence: dict[str, Any] = {"failing_runs": len(failing), "succeeding_runs": len(succeeding)}
    if not failing or not succeeding:
        return {}, evidence
    paths = sorted({p for r in [*failing, *succeeding] for p in r if known(p)})
    best: tuple[tuple[float, int, int, str], dict[str, Any], float, float] | None = None
    for path in paths:
        candidates: list[tuple[dict[str, Any], float, float]] = []
        f_empty = sum(_empty(r, path) for r in failing) / len(failing)
        o_empty = sum(_empty(r, path) for r in succeeding) / len(succeeding)
        candidates.append(({"field": path, "op": "empty"}, f_empty, o_empty))
        values = [_value(r, path) for r in failing]
        scalars = [v for v in values if v is not _NO_VALUE]
        if scalars and len(failing) >= 2:
            top = max(set(scalars), key=lambda v: (scalars.count(v), str(v)))
            ok_values = [_value(r, path) for r in succeeding]
            candidates.append(
                (
                    {"field": path, "op": "equals", "value": top},
                    scalars.count(top) / len(failing),
                    sum(1 for v in ok_values if v is not _NO_VALUE and same_value(v, top)) / len(succeeding),
                )
            )
            numbers = [v for v in scalars if isinstance(v, int | float) and not isinstance(v, bool)]
            ok_numbers = [v for v in ok_values if isinstance(v, int | float) and not isinstance(v, bool)]
            if len(numbers) == len(failing) and ok_numbers:
                if max(numbers) < min(ok_numbers):
                    candidates.append(({"field": path, "op": "lt", "value": min(ok_numbers)}, 1.0, 0.0))
                elif min(numbers) > max(ok_numbers):
                    candidates.append(({"field": path, "op": "gt", "value": max(ok_numbers)}, 1.0, 0.0))
        by_domain = _domain_candidate(path, failing, succeeding) if len(failing) >= 2 else None
        if by_domain is not None:
            candidates.append(by_domain)
        for condition, f_share, o_share in candidates:
            if f_share < FAIL_SHARE or o_share > OK_SHARE:
                continue
            key = (f_share - o_share, int(_mentions(message, path)), int(condition["op"] == "empty"), path)
            if best is None or key > best[0]:
                best = (key, condition, f_share, o_share)
    if best is None:
        return {}, evidence
    _, condition, f_share, o_share = best
    evidence.update(
        {
            "fail_share": round(f_share, 4),
            "ok_share": round(o_share, 4),
            "matched_failing": round(f_share * len(failing)),
            "matched_succeeding_sample": round(o_share * len(succeeding)),
        }
    )
    return condition, evidence


def propose(
    group: ErrorGroup,
    failing: Sequence[Record],
    succeeding: Sequence[Record],
    *,
    reads_prompts: bool = True,
    known: Callable[[str], bool] | None = None,
) -> Proposal | NoRule:
    """The rule to propose for a group of alike errors, from the failing and succeeding runs'
    recorded facts; NoRule (with the reason) when no rule that can act fits.

    A rule for a rules agent must be executable (validate, retry, escalate): prompt text is only
    for an agent whose brain reads it (``reads_prompts``).
    """
    kind = error_kind(group)
    if not group.agent_name:
        return NoRule(
            "these failures happen outside any agent run (a webhook's processing, a provider call with no "
            "run): no learned rule acts there; fix the handler or register the agent it needs",
            {"kind": kind},
        )
    if kind in ("rate_limit", "transient"):
        delays = RETRY_DELAYS[kind]
        params: dict[str, Any] = {"delays": delays, "max_attempts": len(delays) + 1}
        return Proposal(RETRY, template_text(kind, group, {}, params), {}, params, {"kind": kind})
    if kind == "auth":
        params = {"target": "admin" if re.search(r"auth|credential|key", group.message, re.I) else "manager"}
        return Proposal(ESCALATE, template_text(kind, group, {}, params), {}, params, {"kind": kind})
    condition, evidence = derive_from_records(
        failing, succeeding, known=known or (lambda path: True), message=group.message
    )
    evidence["kind"] = kind
    if condition:
        return Proposal(VALIDATE, template_text(kind, group, condition, {}), condition, {}, evidence)
    if reads_prompts:
        return Proposal(ALWAYS, template_text(kind, group, {}, {}), {}, {}, evidence)
    return NoRule(
        f"no condition over the input and the facts separates the {len(failing)} failing runs from the "
        f"{len(succeeding)} succeeding ones compared, and {group.agent_name} is a rules agent: it reads no "
        "prompt, so a text rule could not act. Nothing is proposed; fix the agent or the data it reads",
        evidence,
    )
