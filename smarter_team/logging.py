"""Log filter that keeps secrets out of every log line.

Provider keys live in settings; a careless f-string or an exception carrying a request URL
could put one in a log. The filter replaces every configured secret value, and anything that
looks like a bearer token or an ``api_key=`` query parameter, with ``[redacted]``.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache

_PATTERNS = [
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"(?i)((?:api[_-]?key|token|secret|signature|password|apikey)=)[^&\s\"']+"),
    re.compile(r"\b(?:sk|rk|pk|whsec)_(?:live|test)_[A-Za-z0-9]{8,}\b"),
]


@lru_cache(maxsize=1)
def _secret_values() -> tuple[str, ...]:
    from django.conf import settings

    values = [v for v in getattr(settings, "INTEGRATION_KEYS", {}).values() if v and len(v) >= 6]
    for name in ("ANTHROPIC_API_KEY", "SECRET_KEY", "EMAIL_HOST_PASSWORD"):
        value = getattr(settings, name, "")
        if value and len(value) >= 6:
            values.append(value)
    return tuple(sorted(set(values), key=len, reverse=True))


def redact(text: str) -> str:
    for value in _secret_values():
        text = text.replace(value, "[redacted]")
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) if m.lastindex else "") + "[redacted]", text)
    return text


class RedactSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not lose the log line
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
