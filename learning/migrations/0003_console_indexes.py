"""Trigram indexes behind the console's search of the error log (PostgreSQL only; smarter_team.migration_ops)."""

from django.db import migrations

from smarter_team.migration_ops import AddTrigramIndex, EnsureTrigramExtension


class Migration(migrations.Migration):
    # Not atomic: on PostgreSQL each index is built CONCURRENTLY (no write lock while it builds).
    atomic = False

    dependencies = [
        ("learning", "0002_facts_precision_notes"),
    ]

    operations = [
        EnsureTrigramExtension(),
        AddTrigramIndex(model_name="errorlog", field_name="message", name="errorlog_message_trgm"),
        AddTrigramIndex(model_name="errorlog", field_name="error_type", name="errorlog_error_type_trgm"),
    ]
