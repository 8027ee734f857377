"""Group alike errors: one fingerprint per (agent, error type, step, normalised message).

Pure functions, no Django: the normaliser replaces everything that varies between two occurrences of the
same mistake (numbers, ids, UUIDs, hex, emails, URLs, domains, quoted values) with a placeholder, so
"lead 42 has no domain" and "lead 97 has no domain" share one fingerprint.
"""

from __future__ import annotations

import hashlib
import re

_TLD_LIST = "com net org io co ai dev biz us uk de fr es nl eu ca au ch se dk fi pl be at ie nz br mx jp cn ru "
_TLD_LIST += "xyz gov edu ly gg vc cc"
_TLDS = "|".join(sorted(_TLD_LIST.split(), key=len, reverse=True))

# Order matters: the more specific shapes go first so an email is not eaten as a domain plus a word, and
# a URL is not split into a domain and a path.
_SUBSTITUTIONS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s'\"<>]+", re.IGNORECASE), "<url>"),
    (re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b"), "<email>"),
    (
        re.compile(r"\b[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\b", re.IGNORECASE),
        "<uuid>",
    ),
    (re.compile(r"\b0x[0-9a-f]+\b", re.IGNORECASE), "<hex>"),
    # Long hex runs with at least one digit and one letter: hashes, object ids, request ids.
    (re.compile(r"\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{8,}\b", re.IGNORECASE), "<hex>"),
    # Domains end in a known TLD: a dotted identifier in a message ("lead.email is required") is not a
    # domain, and normalising it would merge different mistakes.
    (re.compile(rf"\b(?:[a-z0-9](?:[a-z0-9-]{{0,61}}[a-z0-9])?\.)+(?:{_TLDS})\b", re.IGNORECASE), "<domain>"),
    (re.compile(r"'[^'\n]{0,200}'"), "<value>"),
    (re.compile(r'"[^"\n]{0,200}"'), "<value>"),
    (re.compile(r"`[^`\n]{0,200}`"), "<value>"),
    # Identifiers that mix letters and digits (lead_123, req-9f2, abc123): the digits make them unique.
    (re.compile(r"\b(?=[\w-]*[a-z_])(?=[\w-]*\d)[\w-]+\b", re.IGNORECASE), "<id>"),
    (re.compile(r"[-+]?\d+(?:[.,]\d+)*"), "<n>"),
)
_SPACES = re.compile(r"\s+")
MAX_MESSAGE = 2000


def normalise_message(message: str) -> str:
    """The message with its varying parts replaced by placeholders, lower-cased, spaces collapsed."""
    text = (message or "")[:MAX_MESSAGE]
    for pattern, placeholder in _SUBSTITUTIONS:
        text = pattern.sub(placeholder, text)
    return _SPACES.sub(" ", text).strip().lower()


def error_type_of(exc: BaseException) -> str:
    """The exception's qualified class name (module-less for builtins) - stable across runs."""
    cls = type(exc)
    module = cls.__module__
    if module in ("builtins", "__main__"):
        return cls.__qualname__
    return f"{module}.{cls.__qualname__}"


def fingerprint(*, agent_name: str, error_type: str, step: str, message: str) -> str:
    """sha256 hex of the parts that make two errors 'the same mistake'."""
    key = "\x1f".join(
        (agent_name.strip().lower(), error_type.strip(), step.strip().lower(), normalise_message(message))
    )
    return hashlib.sha256(key.encode("utf-8")).hexdigest()
