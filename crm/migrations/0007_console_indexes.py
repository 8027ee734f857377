"""Indexes behind the console at scale (smarter_team.admin_scale).

Trigram indexes for the searches of companies, leads and messages, on UPPER(column), the
expression Django's icontains compares (PostgreSQL only: smarter_team.migration_ops); and a
partial index for the messages not sent yet (drafts, approvals, queued, failed).
"""

from django.db import migrations, models

from smarter_team.migration_ops import AddTrigramIndex, EnsureTrigramExtension

SEARCHED = {
    "company": ("name", "domain"),
    "lead": ("email", "first_name", "last_name"),
    "message": ("subject", "to_email", "from_email"),
}


class Migration(migrations.Migration):
    # Not atomic: on PostgreSQL each trigram index is built CONCURRENTLY (no write lock while it builds).
    atomic = False

    dependencies = [
        ("crm", "0006_16x_mailbox_history"),
    ]

    operations = [
        EnsureTrigramExtension(),
        *(
            AddTrigramIndex(model_name=model, field_name=field, name=f"{model}_{field}_trgm")
            for model, fields in SEARCHED.items()
            for field in fields
        ),
        migrations.AddIndex(
            model_name="message",
            index=models.Index(
                condition=models.Q(("status__in", ["draft", "awaiting_approval", "queued", "failed"])),
                fields=["status", "created_at"],
                name="message_unsent",
            ),
        ),
    ]
