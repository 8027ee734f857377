"""Keeping secrets and personal data out of log lines and stored error texts.

Provider keys live in settings; a careless f-string or an exception carrying a request URL
could put one in a log. ``redact`` replaces every configured secret value, anything that looks
like a bearer token or a credential-named ``key=value`` pair, and every email address. The log
filter applies it to the message *and* to the traceback and stack (``logger.exception`` formats
the exception's own text, which often quotes a URL or a payload); stored error texts (actions,
runs, webhook events, the error log) go through it too (``RedactedTextField``, record_failure).
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache

REDACTED = "[redacted]"
_PATTERNS = [
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"(?i)((?:api[_-]?key|token|secret|signature|password|apikey)=)[^&\s\"']+"),
    re.compile(r"\b(?:sk|rk|pk|whsec)_(?:live|test)_[A-Za-z0-9]{8,}\b"),
    # key=value / key: value pairs whose key names a credential (query strings, headers in messages).
    re.compile(
        r"(?i)([\w-]*(?:api[_-]?key|token|secret|password|passwd|authorization|signature)[\w-]*\s*[=:]\s*)"
        r"(?!\[redacted\])(?:bearer\s+)?[^\s&,;'\"]+"
    ),
    # user:password@ in a URL (a broker or database URL in a connection error).
    re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^/\s:@]*:)[^@\s/]+(?=@)"),
]
# Personal data: an address in a log line or an error text outlives a GDPR erasure.
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]{1,64}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
EMAIL_MASK = "[email]"


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
    """``text`` without secrets (configured values, credential-looking pairs) or email addresses."""
    for value in _secret_values():
        text = text.replace(value, REDACTED)
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) if m.lastindex else "") + REDACTED, text)
    return _EMAIL.sub(EMAIL_MASK, text)


class RedactSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not lose the log line
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            # Formatted here, once, so every handler's formatter uses the redacted text.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True
