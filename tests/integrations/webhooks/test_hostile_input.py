"""No input gets a 500: NUL, lone surrogates, deep nesting, odd numbers, unpadded secrets, floods.

Each class of input is tested as a class (hypothesis), through the real URL, signed with the
provider's scheme, and then processed, because PostgreSQL refuses NUL in text and jsonb, UTF-8
cannot encode a lone surrogate, and every walk over a nested value can hit the recursion limit.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from typing import Any
from urllib.parse import quote

import pytest
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from standardwebhooks.webhooks import Webhook

from integrations.models import WebhookEvent
from integrations.webhooks import rejected, services
from integrations.webhooks.base import MAX_JSON_DEPTH, MalformedEvent, parse_json
from integrations.webhooks.providers import PROVIDERS
from smarter_team import clock
from tests.integrations.webhooks.conftest import KEY_NAMES, URL, sign
from tests.integrations.webhooks.strategies import body_of, deep, fixtures_of, hostile_text, hostile_value, mutated

FUZZ = hypothesis_settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


def strings_in(value: Any) -> list[str]:
    found, stack = [], [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            found.append(item)
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def no_unstorable(value: Any) -> bool:
    return not any(ch == "\x00" or 0xD800 <= ord(ch) <= 0xDFFF for text in strings_in(value) for ch in text)


def post(provider: str, body: bytes, headers: dict[str, str] | None = None, query: Any = None, **extra: Any) -> Any:
    return Client().post(
        URL.format(provider),
        data=body,
        content_type="application/json",
        headers=headers or {},
        query_params=query or {},
        **extra,
    )


# --- parse_json: the one door every body goes through -----------------------------------------
@given(value=hostile_value)
@FUZZ
def test_every_parsed_string_is_storable_and_nothing_else_changes(value: Any) -> None:
    parsed = parse_json(json.dumps(value, ensure_ascii=True).encode())
    assert no_unstorable(parsed)
    if no_unstorable(value):
        assert parsed == value


@pytest.mark.parametrize("kind", ["[", "{"])
@pytest.mark.parametrize("levels", [MAX_JSON_DEPTH + 1, 5_000, 100_000])
def test_deep_nesting_is_malformed_however_deep(levels: int, kind: str) -> None:
    with pytest.raises(MalformedEvent, match="nests deeper"):
        parse_json(deep(levels, kind).encode())


@pytest.mark.parametrize("body", [b"NaN", b'{"a": Infinity}', b"[-Infinity]", b"1" * 5000, b"\xed\xa0\x80", b"\xff"])
def test_what_json_loads_takes_but_no_column_can_hold_is_malformed(body: bytes) -> None:
    with pytest.raises(MalformedEvent):
        parse_json(body)


# --- the endpoint, signed, every provider -----------------------------------------------------
@pytest.mark.django_db
@given(data=st.data())
@FUZZ
def test_signed_hostile_bodies_never_get_a_500_and_are_stored_and_processed(data: st.DataObject) -> None:
    provider = data.draw(st.sampled_from(sorted(PROVIDERS)))
    fixture = data.draw(st.sampled_from(fixtures_of(provider)))
    body = body_of(data.draw(mutated(fixture)))
    msg_id = "msg_" + hashlib.sha256(body).hexdigest()[:16]
    headers, query = sign(provider, body, msg_id=msg_id)
    response = post(provider, body, headers, query)
    assert response.status_code in (200, 400), response.content
    for event in WebhookEvent.objects.filter(status="received"):
        assert services.process_event(event_pk=event.pk) in {"processed", "ignored", "failed"}
    for event in WebhookEvent.objects.all():
        assert no_unstorable([event.event_id, event.event_type, event.error, event.headers])


@pytest.mark.django_db
@given(value=hostile_text, name=hostile_text)
@FUZZ
def test_any_query_string_or_header_even_unsigned_gets_an_answer_not_a_500(value: str, name: str) -> None:
    # As a client's bytes arrive: percent-encoded UTF-8, lone surrogates included (surrogatepass).
    query = "&".join(
        f"{quote(k, safe='', errors='surrogatepass')}={quote(v, safe='', errors='surrogatepass')}"
        for k, v in ((name or "q", value), ("signature", value))
    )
    for provider in PROVIDERS:
        response = Client().post(
            f"{URL.format(provider)}?{query}",
            data=b"{}",
            content_type="application/json",
            headers={"X-Odd": value.replace("\n", " ")},
        )
        assert response.status_code == 401, response.content
    for event in WebhookEvent.objects.all():
        assert no_unstorable(event.headers)


@pytest.mark.django_db
def test_a_nul_in_the_query_string_is_stored_as_the_replacement_character() -> None:
    response = Client().post(URL.format("stripe") + "?note=a%00b&%00=x", data=b"{}", content_type="application/json")
    assert response.status_code == 401
    stored = WebhookEvent.objects.get().headers
    assert stored["?note"] == "a\ufffdb" and stored["?\ufffd"] == "x"


@pytest.mark.django_db
@pytest.mark.parametrize("provider", sorted(PROVIDERS))
def test_a_signed_body_nested_thousands_deep_is_a_400(provider: str) -> None:
    body = deep(10_000).encode()
    headers, query = sign(provider, body)
    response = post(provider, body, headers, query)
    assert response.status_code == 400
    assert "nests deeper" in response.json()["detail"]


@pytest.mark.django_db
def test_a_signed_event_with_nul_and_a_lone_surrogate_in_its_strings_is_stored_and_processed() -> None:
    body = b'{"id": "evt_\\u0000x", "type": "invoice.paid", "data": {"object": {"object": "invoice", "id": "in_\\ud800", "metadata": {"\\u0000": "\\udfff"}}}}'  # noqa: E501
    headers, query = sign("stripe", body)
    response = post("stripe", body, headers, query)
    assert response.status_code == 200, response.content
    assert response.json()["event_id"] == "evt_\ufffdx"
    event = WebhookEvent.objects.get()
    assert bytes(event.raw_body) == body  # what the vendor signed, byte for byte
    assert services.process_event(event_pk=event.pk) == "processed"


@pytest.mark.django_db
@pytest.mark.parametrize("timestamp", ["9" * 400, "١٢٣", "1_700_000_000", "-5", ""])
def test_a_signed_but_absurd_timestamp_is_a_401(timestamp: str) -> None:
    from integrations.webhooks.signatures import sign_stripe

    body = b'{"id": "evt_1", "type": "invoice.paid"}'
    header = sign_stripe(body=body, secret="whsec_test_stripe_secret_0001", timestamp=0).replace(
        "t=0", f"t={timestamp}"
    )
    # Re-sign with the odd timestamp so only the timestamp check can refuse it.
    import hmac

    digest = hmac.new(b"whsec_test_stripe_secret_0001", f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    header = f"t={timestamp},v1={digest}"
    assert post("stripe", body, {"Stripe-Signature": header}).status_code == 401


# --- Standard Webhooks secrets as vendors hand them out -----------------------------------------
@pytest.mark.django_db
@given(key=st.binary(min_size=16, max_size=40))
@hypothesis_settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_an_unpadded_standard_webhooks_secret_verifies_what_the_reference_library_signs(
    key: bytes, settings: Any
) -> None:
    secret = "whsec_" + base64.b64encode(key).decode().rstrip("=")
    settings.INTEGRATION_KEYS = {**settings.INTEGRATION_KEYS, KEY_NAMES["fathom"]: secret}
    body = b'{"recording_id": 7}'
    msg_id = "msg_" + hashlib.sha256(key).hexdigest()[:12]
    now = clock.now()
    signature = Webhook(secret).sign(msg_id, now, body.decode())
    headers = {"webhook-id": msg_id, "webhook-timestamp": str(int(now.timestamp())), "webhook-signature": signature}
    response = post("fathom", body, headers)
    assert response.status_code == 200, response.content


# --- rejected requests: bounded in size and in rate ----------------------------------------------
@pytest.mark.django_db
def test_a_rejected_megabyte_stores_a_prefix_its_size_and_digest() -> None:
    body = b'{"pad": "' + b"x" * (1024 * 1024 - 20) + b'"}'
    assert post("stripe", body).status_code == 401
    event = WebhookEvent.objects.get()
    assert len(bytes(event.raw_body)) == rejected.KEPT_PREFIX_BYTES
    assert bytes(event.raw_body) == body[: rejected.KEPT_PREFIX_BYTES]
    assert (event.body_size, event.body_sha256) == (len(body), hashlib.sha256(body).hexdigest())


@pytest.mark.django_db
def test_rejected_requests_are_stored_at_most_the_quota_per_source_and_minute(settings: Any) -> None:
    settings.WEBHOOK_REJECTED_PER_MINUTE = 3
    source = f"203.0.113.{dt.datetime.now(tz=dt.UTC).microsecond % 250}"  # a source no other test uses
    answers = [post("instantly", b"{}", REMOTE_ADDR=source).status_code for _ in range(6)]
    other = post("instantly", b"{}", REMOTE_ADDR="198.51.100.77").status_code
    assert answers == [401] * 6 and other == 401  # every request is still answered
    assert WebhookEvent.objects.filter(status="rejected", headers__isnull=False).count() == 4
