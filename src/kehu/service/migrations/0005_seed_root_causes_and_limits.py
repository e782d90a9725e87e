"""Root causes to start from and authority limits per role (admins change both); SLA
events that happened before notifications count as told."""

from decimal import Decimal

from django.db import migrations, models

ROOT_CAUSES = [
    ("product", "Product defect"),
    ("attitude", "Staff attitude"),
    ("process", "Process or rule"),
    ("promise", "Promise not kept"),
    ("communication", "Miscommunication"),
    ("delivery", "Delivery or installation"),
    ("price", "Price or offer policy"),
    ("misunderstanding", "Customer misunderstanding"),
    ("other", "Other"),
]
# Per case, in KEHU_CURRENCY; None means no limit. Analysts grant nothing.
LIMITS = {
    "agent": Decimal("200"),
    "key_account_manager": Decimal("1000"),
    "supervisor": Decimal("5000"),
    "analyst": Decimal("0"),
    "admin": None,
}


def seed(apps, schema_editor):
    RootCause = apps.get_model("service", "RootCause")
    for position, (code, name) in enumerate(ROOT_CAUSES):
        RootCause.objects.get_or_create(
            code=code, defaults={"name": name, "position": position * 10}
        )
    AuthorityLimit = apps.get_model("service", "AuthorityLimit")
    for role, amount in LIMITS.items():
        AuthorityLimit.objects.get_or_create(role=role, defaults={"max_amount": amount})


def mark_notified(apps, schema_editor):
    """SLA events from before notifications existed are not sent now, long after."""
    CaseEvent = apps.get_model("service", "CaseEvent")
    CaseEvent.objects.filter(
        kind__in=["warning", "first_response_breach", "resolution_breach"]
    ).update(notified_at=models.F("at"))


def unseed(apps, schema_editor):
    apps.get_model("service", "RootCause").objects.filter(
        code__in=[code for code, _name in ROOT_CAUSES], cases=None, improvement_actions=None
    ).delete()
    apps.get_model("service", "AuthorityLimit").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("service", "0004_authority_worksheet_learning")]
    operations = [
        migrations.RunPython(seed, unseed),
        migrations.RunPython(mark_notified, migrations.RunPython.noop),
    ]
