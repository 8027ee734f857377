"""The webhook providers, one module each (Zulip-style), keyed by the URL's ``{provider}``."""

from __future__ import annotations

from integrations.webhooks.base import WebhookProvider
from integrations.webhooks.providers import apify, calcom, fathom, instantly, pandadoc, stripe

PROVIDERS: dict[str, WebhookProvider] = {
    module.PROVIDER.name: module.PROVIDER for module in (stripe, fathom, calcom, pandadoc, instantly, apify)
}


def get_provider(name: str) -> WebhookProvider | None:
    return PROVIDERS.get(name)
