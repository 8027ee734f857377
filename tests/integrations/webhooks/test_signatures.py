"""The signature schemes, good and bad, without the endpoint around them."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac

import pytest

from integrations.webhooks.signatures import (
    SignatureError,
    StaleSignature,
    hmac_hex,
    sign_standard_webhooks,
    sign_stripe,
    verify_hmac_hex,
    verify_shared_secret,
    verify_standard_webhooks,
    verify_stripe,
)

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
TS = int(NOW.timestamp())
BODY = b'{"id":"evt_1","type":"invoice.paid"}'
STRIPE = "whsec_stripe_a"
OTHER = "whsec_stripe_b"
WHSEC = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()
WHSEC_OLD = "whsec_" + base64.b64encode(b"old-key-old-key-old-key-old-key!").decode()


def stripe(header: str | None, *, secrets: list[str] | None = None, body: bytes = BODY, now: dt.datetime = NOW) -> None:
    verify_stripe(body=body, header=header, secrets=secrets or [STRIPE], now=now, tolerance_seconds=300)


class TestStripe:
    def test_accepts_its_own_signature(self) -> None:
        stripe(sign_stripe(body=BODY, secret=STRIPE, timestamp=TS))

    def test_refuses_a_signature_made_with_another_secret(self) -> None:
        with pytest.raises(SignatureError, match="no Stripe v1 signature matches"):
            stripe(sign_stripe(body=BODY, secret=OTHER, timestamp=TS))

    def test_refuses_a_tampered_body(self) -> None:
        with pytest.raises(SignatureError):
            stripe(sign_stripe(body=BODY, secret=STRIPE, timestamp=TS), body=BODY.replace(b"paid", b"void"))

    def test_refuses_a_signature_older_than_the_tolerance(self) -> None:
        with pytest.raises(StaleSignature):
            stripe(sign_stripe(body=BODY, secret=STRIPE, timestamp=TS - 301))

    def test_refuses_a_timestamp_from_the_future(self) -> None:
        with pytest.raises(StaleSignature):
            stripe(sign_stripe(body=BODY, secret=STRIPE, timestamp=TS + 301))

    def test_accepts_a_signature_just_inside_the_tolerance(self) -> None:
        stripe(sign_stripe(body=BODY, secret=STRIPE, timestamp=TS - 299))

    def test_refuses_a_replayed_timestamp_with_the_old_signature(self) -> None:
        # Changing t= invalidates the signature: t is part of what is signed.
        header = sign_stripe(body=BODY, secret=STRIPE, timestamp=TS - 1000).replace(f"t={TS - 1000}", f"t={TS}")
        with pytest.raises(SignatureError, match="no Stripe v1"):
            stripe(header)

    @pytest.mark.parametrize("header", [None, "", "v1=abc", f"t={TS}", f"t={TS},v0=abc"])
    def test_refuses_a_missing_or_incomplete_header(self, header: str | None) -> None:
        with pytest.raises(SignatureError):
            stripe(header)

    def test_accepts_when_any_of_several_v1_values_matches(self) -> None:
        good = sign_stripe(body=BODY, secret=STRIPE, timestamp=TS).split("v1=")[1]
        stripe(f"t={TS},v1={'0' * 64},v1={good},v0=deadbeef")

    def test_accepts_both_secrets_during_a_rotation(self) -> None:
        stripe(sign_stripe(body=BODY, secret=OTHER, timestamp=TS), secrets=[STRIPE, OTHER])

    def test_refuses_a_non_numeric_timestamp_even_when_signed(self) -> None:
        signature = hmac.new(STRIPE.encode(), b"abc." + BODY, hashlib.sha256).hexdigest()
        with pytest.raises(SignatureError, match="not an integer"):
            stripe(f"t=abc,v1={signature}")


def standard(
    *, headers: dict[str, str | None], secrets: list[str] | None = None, body: bytes = BODY, now: dt.datetime = NOW
) -> None:
    verify_standard_webhooks(
        body=body,
        msg_id=headers.get("id"),
        timestamp=headers.get("ts"),
        signature_header=headers.get("sig"),
        secrets=secrets or [WHSEC],
        now=now,
        tolerance_seconds=300,
    )


def signed_headers(*, secret: str = WHSEC, ts: int = TS, msg_id: str = "msg_1") -> dict[str, str | None]:
    return {
        "id": msg_id,
        "ts": str(ts),
        "sig": sign_standard_webhooks(body=BODY, secret=secret, msg_id=msg_id, timestamp=ts),
    }


class TestStandardWebhooks:
    def test_accepts_its_own_signature(self) -> None:
        standard(headers=signed_headers())

    def test_refuses_another_secret(self) -> None:
        with pytest.raises(SignatureError):
            standard(headers=signed_headers(secret=WHSEC_OLD))

    def test_refuses_a_tampered_body(self) -> None:
        with pytest.raises(SignatureError):
            standard(headers=signed_headers(), body=BODY + b" ")

    def test_refuses_a_changed_message_id(self) -> None:
        headers = signed_headers()
        headers["id"] = "msg_2"
        with pytest.raises(SignatureError):
            standard(headers=headers)

    def test_refuses_a_stale_timestamp(self) -> None:
        with pytest.raises(StaleSignature):
            standard(headers=signed_headers(ts=TS - 301))

    @pytest.mark.parametrize("missing", ["id", "ts", "sig"])
    def test_refuses_a_missing_header(self, missing: str) -> None:
        headers = signed_headers()
        headers[missing] = None
        with pytest.raises(SignatureError, match="missing"):
            standard(headers=headers)

    def test_accepts_any_of_several_space_separated_signatures(self) -> None:
        headers = signed_headers()
        headers["sig"] = f"v1,{base64.b64encode(b'x' * 32).decode()} {headers['sig']} v2,ignored"
        standard(headers=headers)

    def test_accepts_an_old_and_a_new_secret_during_rotation(self) -> None:
        standard(headers=signed_headers(secret=WHSEC_OLD), secrets=[WHSEC, WHSEC_OLD])

    def test_refuses_a_signature_of_an_unknown_version(self) -> None:
        headers = signed_headers()
        headers["sig"] = str(headers["sig"]).replace("v1,", "v2,")
        with pytest.raises(SignatureError, match="no v1"):
            standard(headers=headers)


class TestBodyHmac:
    def test_accepts_the_hex_hmac_of_the_body(self) -> None:
        verify_hmac_hex(body=BODY, signature=hmac_hex(body=BODY, secret="k"), secrets=["k"], where="X-Sig")

    def test_accepts_upper_case_and_a_sha256_prefix(self) -> None:
        signature = "sha256=" + hmac_hex(body=BODY, secret="k").upper()
        verify_hmac_hex(body=BODY, signature=signature, secrets=["k"], where="X-Sig")

    def test_refuses_another_key_a_tampered_body_and_no_signature(self) -> None:
        good = hmac_hex(body=BODY, secret="k")
        for body, signature, secrets in [
            (BODY, hmac_hex(body=BODY, secret="x"), ["k"]),
            (BODY + b"1", good, ["k"]),
            (BODY, None, ["k"]),
        ]:
            with pytest.raises(SignatureError):
                verify_hmac_hex(body=body, signature=signature, secrets=secrets, where="X-Sig")

    def test_accepts_a_rotated_key(self) -> None:
        verify_hmac_hex(body=BODY, signature=hmac_hex(body=BODY, secret="old"), secrets=["new", "old"], where="X-Sig")


class TestSharedSecret:
    def test_accepts_the_secret_and_refuses_anything_else(self) -> None:
        verify_shared_secret(presented="s3cret", secrets=["s3cret"], header="X-Webhook-Secret")
        for presented in ("s3cre", "s3cret ", "", None):
            with pytest.raises(SignatureError):
                verify_shared_secret(presented=presented, secrets=["s3cret"], header="X-Webhook-Secret")

    def test_accepts_a_rotated_secret(self) -> None:
        verify_shared_secret(presented="old", secrets=["new", "old"], header="X-Webhook-Secret")
