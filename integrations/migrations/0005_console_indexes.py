"""The console's searches at scale: webhook events by id, API calls by URL (a trigram index, PostgreSQL only)."""

from django.db import migrations, models

from smarter_team.migration_ops import AddTrigramIndex, EnsureTrigramExtension


class Migration(migrations.Migration):
    # Not atomic: on PostgreSQL the trigram index is built CONCURRENTLY (no write lock while it builds).
    atomic = False

    dependencies = [
        ("integrations", "0004_webhook_rejected_prefix_and_republish"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="webhookevent",
            index=models.Index(fields=["event_id"], name="webhookevent_event_id"),
        ),
        EnsureTrigramExtension(),
        AddTrigramIndex(model_name="apiusage", field_name="url", name="apiusage_url_trgm"),
    ]
