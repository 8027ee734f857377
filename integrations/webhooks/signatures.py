"""The signature schemes webhook vendors use, verified on the raw request bytes.

Each ``verify_*`` raises ``SignatureError`` (or ``StaleSignature``) and returns nothing when the
request is authentic; each ``sign_*`` is its inverse, used by the sandbox world and the tests so
the same code path signs and verifies. Every comparison is ``hmac.compare_digest`` and every
scheme accepts a list of secrets, so a secret can be rotated without refusing events in between.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
from collections.abc import Sequence


class SignatureError(Exception):
    """The request is not provably from the vendor (answered 401, never processed)."""


class StaleSignature(SignatureError):
    """Signed, but outside the timestamp tolerance: a replayed or badly delayed request."""


def _hmac_sha256(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def _any_equal(candidates: Sequence[str], expected: Sequence[str]) -> bool:
    # Compare every pair without stopping early, so timing says nothing about which one matched.
    matched = False
    for candidate in candidates:
        for wanted in expected:
            matched |= hmac.compare_digest(candidate.encode(), wanted.encode())
    return matched


def _check_timestamp(raw: str, *, now: dt.datetime, tolerance_seconds: int) -> int:
    # ASCII digits only, and few enough for a float: int() alone would take "١٢٣" or "1_000", and
    # a signed 400-digit timestamp would overflow the comparison below (a 500, not a 401).
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 12):
        raise SignatureError("the signature timestamp is not an integer")
    timestamp = int(raw)
    # Both directions: a timestamp far in the future is as suspect as an old one.
    if abs(now.timestamp() - timestamp) > tolerance_seconds:
        raise StaleSignature(f"the signature timestamp is outside the {tolerance_seconds} s tolerance")
    return timestamp


# --- Stripe: Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>...] -------------------------------
# https://docs.stripe.com/webhooks#verify-manually
def sign_stripe(*, body: bytes, secret: str, timestamp: int) -> str:
    signature = _hmac_sha256(secret.encode(), f"{timestamp}.".encode() + body).hex()
    return f"t={timestamp},v1={signature}"


def verify_stripe(
    *, body: bytes, header: str | None, secrets: Sequence[str], now: dt.datetime, tolerance_seconds: int
) -> None:
    if not header:
        raise SignatureError("missing Stripe-Signature header")
    timestamp = ""
    v1: list[str] = []
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t":
            timestamp = value
        elif key == "v1":
            v1.append(value.lower())
    if not timestamp or not v1:
        raise SignatureError("Stripe-Signature needs a t= timestamp and at least one v1= signature")
    expected = [_hmac_sha256(s.encode(), f"{timestamp}.".encode() + body).hex() for s in secrets]
    if not _any_equal(v1, expected):
        raise SignatureError("no Stripe v1 signature matches")
    _check_timestamp(timestamp, now=now, tolerance_seconds=tolerance_seconds)


# --- Standard Webhooks (Fathom): webhook-id, webhook-timestamp, webhook-signature -------------
# https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md
def _standard_key(secret: str) -> bytes:
    """The HMAC key of a Standard Webhooks secret: the base64 after ``whsec_``.

    Padding is optional, as in the reference library (``b64decode(secret + "==")``): vendors hand
    out secrets with the ``=`` stripped. Only a secret that is not base64 even when padded is used
    as its raw characters (some vendors hand out plain strings).
    """
    raw = secret.removeprefix("whsec_")
    try:
        return base64.b64decode(raw + "=" * (-len(raw) % 4), validate=True)
    except (binascii.Error, ValueError):
        return raw.encode()


def sign_standard_webhooks(*, body: bytes, secret: str, msg_id: str, timestamp: int) -> str:
    digest = _hmac_sha256(_standard_key(secret), f"{msg_id}.{timestamp}.".encode() + body)
    return "v1," + base64.b64encode(digest).decode()


def verify_standard_webhooks(
    *,
    body: bytes,
    msg_id: str | None,
    timestamp: str | None,
    signature_header: str | None,
    secrets: Sequence[str],
    now: dt.datetime,
    tolerance_seconds: int,
) -> None:
    if not msg_id or not timestamp or not signature_header:
        raise SignatureError("missing webhook-id, webhook-timestamp or webhook-signature header")
    # Space-separated "version,signature" pairs; only v1 (HMAC-SHA256) is defined.
    presented = [sig for version, _, sig in (p.partition(",") for p in signature_header.split()) if version == "v1"]
    if not presented:
        raise SignatureError("webhook-signature carries no v1 signature")
    signed = f"{msg_id}.{timestamp}.".encode() + body
    expected = [base64.b64encode(_hmac_sha256(_standard_key(s), signed)).decode() for s in secrets]
    if not _any_equal(presented, expected):
        raise SignatureError("no webhook-signature v1 signature matches")
    _check_timestamp(timestamp, now=now, tolerance_seconds=tolerance_seconds)


# --- Hex HMAC-SHA256 of the body (Cal.com header, PandaDoc query parameter) -------------------
def hmac_hex(*, body: bytes, secret: str) -> str:
    return _hmac_sha256(secret.encode(), body).hex()


def verify_hmac_hex(*, body: bytes, signature: str | None, secrets: Sequence[str], where: str) -> None:
    if not signature:
        raise SignatureError(f"missing {where}")
    presented = signature.strip().lower().removeprefix("sha256=")
    if not _any_equal([presented], [hmac_hex(body=body, secret=s) for s in secrets]):
        raise SignatureError(f"{where} does not match the body")


# --- A shared secret in a header (Instantly, Apify: they sign nothing) -----------------------
def verify_shared_secret(*, presented: str | None, secrets: Sequence[str], header: str) -> None:
    if not presented:
        raise SignatureError(f"missing {header} header")
    if not _any_equal([presented], list(secrets)):
        raise SignatureError(f"{header} does not match")
