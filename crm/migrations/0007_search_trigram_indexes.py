"""Trigram indexes behind the console's searches of companies, leads and messages (PostgreSQL only).

Each is on UPPER(column), the expression Django's icontains compares (smarter_team.migration_ops).
"""

from django.db import migrations

from smarter_team.migration_ops import AddTrigramIndex, EnsureTrigramExtension

SEARCHED = {
    "company": ("name", "domain"),
    "lead": ("email", "first_name", "last_name"),
    "message": ("subject", "to_email", "from_email"),
}


class Migration(migrations.Migration):
    # Not atomic: on PostgreSQL each index is built CONCURRENTLY (no write lock while it builds).
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
    ]
