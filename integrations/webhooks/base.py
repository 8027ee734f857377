"""What a webhook provider module declares, and the helpers every one of them shares.

A provider module (``integrations/webhooks/providers/<name>.py``) builds one ``WebhookProvider``:
how to verify a request, how to name the event (id and type), and a dict of event type ->
handler. Handlers receive the stored event and its parsed payload and start agent runs; they
return whether they acted (False stores the event as ignored).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings

if TYPE_CHECKING:
    from integrations.models import WebhookEvent
    from integrations.webhooks.optouts import OptOutReader


class MalformedEvent(Exception):
    """Authentic but unusable: not JSON, or missing what identifies the event (answered 400)."""


@dataclass(frozen=True)
class IncomingRequest:
    """The parts of an HTTP request a provider may look at. Header names are lower case."""

    body: bytes
    headers: Mapping[str, str]
    query: Mapping[str, str]
    now: dt.datetime

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass(frozen=True)
class EventIdentity:
    event_id: str
    event_type: str


Handler = Callable[["WebhookEvent", Any], bool]
Verifier = Callable[[IncomingRequest, Sequence[str]], None]
Identifier = Callable[[IncomingRequest, Any], EventIdentity]


@dataclass(frozen=True)
class WebhookProvider:
    name: str
    key_name: str  # the INTEGRATION_KEYS entry holding the signing secret(s)
    verify: Verifier  # raises SignatureError
    identify: Identifier  # raises MalformedEvent
    handlers: Mapping[str, Handler]
    # The agents its handlers start (declared wiring: start_event_run refuses any other, and
    # `manage.py check` fails on a name that is neither registered nor planned).
    starts: tuple[str, ...] = ()
    # Header names (lower case) and query parameters whose values are secrets or signatures:
    # stored masked, never shown.
    secret_headers: tuple[str, ...] = ()
    secret_query: tuple[str, ...] = ()
    # Event types whose processing must not wait (opt-outs: a lead who unsubscribed, complained
    # or hard-bounced must never be emailed again). Each is published on its own at commit,
    # before the answer, rather than through the batching publisher, whose buffer dies with the
    # process; and the sweeper replays it sooner (services.URGENT_REPLAY_AFTER).
    urgent: frozenset[str] = frozenset()
    # Event type -> reader of the opt-out it carries (optouts.py): applied by the processing
    # service before the handler, whatever agents exist. Every such type should be urgent too.
    opt_outs: Mapping[str, OptOutReader] = field(default_factory=dict)
    # How the vendor authenticates, for the docs and the admin.
    scheme: str = ""


def signing_secrets(provider: WebhookProvider) -> list[str]:
    """The secrets a request may be signed with: the configured ones, else the sandbox's.

    ``INTEGRATION_KEYS[key_name]`` may hold several secrets separated by commas or spaces
    (rotation: the old and the new one are both accepted until the old one is removed). With no
    secret configured and the sandbox off, the list is empty and every request is refused.
    """
    raw: str = settings.INTEGRATION_KEYS.get(provider.key_name, "")
    configured = [s for s in re.split(r"[,\s]+", raw) if s]
    if configured:
        return configured
    if settings.SANDBOX_WEBHOOKS:
        sandbox = settings.SANDBOX_WEBHOOK_SECRETS.get(provider.name, "")
        return [sandbox] if sandbox else []
    return []


def tolerance_seconds() -> int:
    return int(settings.WEBHOOK_TIMESTAMP_TOLERANCE_SECONDS)


def body_digest(body: bytes, length: int = 32) -> str:
    return hashlib.sha256(body).hexdigest()[:length]


def composite_id(*parts: object) -> str:
    """A stable id for vendors that send none: the fields that make an event unique, hashed."""
    joined = "\x1f".join("" if p is None else str(p) for p in parts)
    return hashlib.sha256(joined.encode()).hexdigest()[:40]


def require_object(payload: Any, what: str) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise MalformedEvent(f"{what} must be a JSON object")
    return payload


def sub_object(data: Mapping[str, Any], key: str) -> dict[str, Any]:
    """``data[key]`` when it is a JSON object, else an empty one (vendors omit what is empty)."""
    value = data.get(key)
    return value if isinstance(value, dict) else {}


def sub_objects(data: Mapping[str, Any], key: str) -> list[dict[str, Any]]:
    """The JSON objects in the list ``data[key]``; anything else is skipped."""
    value = data.get(key)
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def require_str(data: Mapping[str, Any], key: str, what: str) -> str:
    value = data.get(key)
    if not isinstance(value, str | int) or isinstance(value, bool) or str(value) == "":
        raise MalformedEvent(f"{what} needs a non-empty {key!r}")
    return str(value)


# Deeper than any vendor's payload (theirs stay under 15 levels); bounds every later walk over it
# (pydantic, json.dumps into a JSON column, the admin's pretty-printing) far below the recursion limit.
MAX_JSON_DEPTH = 64
# What PostgreSQL refuses in text and jsonb (NUL) and what UTF-8 cannot encode (lone UTF-16
# surrogates, which a JSON "\ud800" escape produces): each becomes U+FFFD, the replacement character.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def storable_text(text: str) -> str:
    """``text`` without the characters no database column can hold (NUL, lone surrogates)."""
    return _UNSTORABLE.sub(REPLACEMENT, text)


def _refuse_constant(name: str) -> Any:
    # NaN and Infinity are not JSON (json.loads accepts them; PostgreSQL's jsonb does not).
    raise ValueError(f"{name} is not a JSON number")


def parse_json(body: bytes) -> Any:
    """The body as JSON whose every string (key or value) can be stored; MalformedEvent otherwise.

    Every input class that once made a 500 is answered here: deep nesting (json's RecursionError,
    or more than MAX_JSON_DEPTH levels), NaN/Infinity, numbers past Python's digit limit, invalid
    UTF-8; NUL characters and lone surrogates inside strings are replaced (see ``storable_text``).
    """
    try:
        payload = json.loads(body, parse_constant=_refuse_constant)
    except RecursionError:
        raise MalformedEvent(f"the body nests deeper than {MAX_JSON_DEPTH} levels") from None
    except (UnicodeDecodeError, ValueError) as exc:  # JSONDecodeError is a ValueError
        raise MalformedEvent(f"the body is not valid JSON: {storable_text(str(exc))[:200]}") from None
    return storable_json(payload)


def storable_json(value: Any, depth: int = 0) -> Any:
    """``value`` (parsed JSON) with ``storable_text`` applied to every string; containers are
    changed in place, a dict rebuilt only when one of its keys changes. Raises MalformedEvent past
    MAX_JSON_DEPTH, so this recursion stays shallow."""
    if isinstance(value, str):
        return storable_text(value) if _UNSTORABLE.search(value) else value
    if isinstance(value, list):
        if depth >= MAX_JSON_DEPTH:
            raise MalformedEvent(f"the body nests deeper than {MAX_JSON_DEPTH} levels")
        for i, item in enumerate(value):
            if isinstance(item, str | list | dict):
                value[i] = storable_json(item, depth + 1)
        return value
    if isinstance(value, dict):
        if depth >= MAX_JSON_DEPTH:
            raise MalformedEvent(f"the body nests deeper than {MAX_JSON_DEPTH} levels")
        if any(_UNSTORABLE.search(k) for k in value):
            # Two keys may now collide; the later wins, as json.loads does for duplicate keys.
            value = {storable_text(k): v for k, v in value.items()}
        for k, item in value.items():
            if isinstance(item, str | list | dict):
                value[k] = storable_json(item, depth + 1)
        return value
    return value


# Currencies without minor units: Stripe sends their amounts as whole units.
ZERO_DECIMAL_CURRENCIES = frozenset(
    "bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf".split()  # noqa: SIM905
)


def minor_to_major(amount: Any, currency: str) -> Decimal | None:
    """Integer minor units (cents) -> Decimal major units; None when the vendor sent no amount."""
    if not isinstance(amount, int) or isinstance(amount, bool):
        return None
    if currency.lower() in ZERO_DECIMAL_CURRENCIES:
        return Decimal(amount)
    return (Decimal(amount) / 100).quantize(Decimal("0.01"))
