"""Root causes to start from and authority limits per role (admins change both); SLA
events that happened before notifications count as told."""

from django.db import migrations, models

from kehu.service import seeds


def seed(apps, schema_editor):
    seeds.seed(
        root_cause_model=apps.get_model("service", "RootCause"),
        authority_limit_model=apps.get_model("service", "AuthorityLimit"),
    )


def mark_notified(apps, schema_editor):
    """SLA events from before notifications existed are not sent now, long after."""
    CaseEvent = apps.get_model("service", "CaseEvent")
    CaseEvent.objects.filter(
        kind__in=["warning", "first_response_breach", "resolution_breach"]
    ).update(notified_at=models.F("at"))


def unseed(apps, schema_editor):
    apps.get_model("service", "RootCause").objects.filter(
        code__in=[code for code, _name in seeds.ROOT_CAUSES], cases=None, improvement_actions=None
    ).delete()
    apps.get_model("service", "AuthorityLimit").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("service", "0004_authority_worksheet_learning")]
    operations = [
        migrations.RunPython(seed, unseed),
        migrations.RunPython(mark_notified, migrations.RunPython.noop),
    ]
