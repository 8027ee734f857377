"""Incoming webhooks: POST /api/webhooks/{provider}, verified, stored once, processed on commit.

Layout (Zulip-style): ``providers/<name>.py`` per vendor (verification, event identity, handlers),
``signatures.py`` (the schemes), ``services.py`` (receive, process, replay), ``api.py`` (the
endpoint), ``publisher.py`` (the ids of accepted events, batched into ``process_events``
messages), ``tasks.py`` (Celery), ``admin.py`` (the WebhookEvent console).
"""
