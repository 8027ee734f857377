"""The console's audit log searches by who acted and by a target's id, each from an index."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("agents", "0006_report_text_and_figures"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="auditlog",
            index=models.Index(fields=["actor", "at"], name="auditlog_actor_at"),
        ),
        migrations.AddIndex(
            model_name="auditlog",
            index=models.Index(fields=["target_id"], name="auditlog_target_id"),
        ),
    ]
