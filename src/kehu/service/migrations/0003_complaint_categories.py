"""The domain's complaint categories (seed 002); admins add more."""

from django.db import migrations

CATEGORIES = [
    ("product", "Product"),
    ("service", "Service"),
    ("commitment", "Broken commitment"),
    ("offer", "Offer or discount"),
    ("other", "Other"),
]


def seed(apps, schema_editor):
    ComplaintCategory = apps.get_model("service", "ComplaintCategory")
    for position, (code, name) in enumerate(CATEGORIES):
        ComplaintCategory.objects.get_or_create(
            code=code, defaults={"name": name, "position": position * 10}
        )


def unseed(apps, schema_editor):
    apps.get_model("service", "ComplaintCategory").objects.filter(
        code__in=[code for code, _name in CATEGORIES], cases=None
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("service", "0002_cases")]
    operations = [migrations.RunPython(seed, unseed)]
