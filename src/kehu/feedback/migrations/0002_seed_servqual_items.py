"""The 22 standard SERVQUAL statements, in English and Chinese; admins edit them."""

from django.db import migrations

from kehu.feedback.seeds import SERVQUAL_ITEMS


def seed(apps, schema_editor):
    ServqualItem = apps.get_model("feedback", "ServqualItem")
    if ServqualItem.objects.exists():
        return
    ServqualItem.objects.bulk_create(
        ServqualItem(dimension=dimension, text_en=en, text_zh=zh, position=(n + 1) * 10)
        for n, (dimension, en, zh) in enumerate(SERVQUAL_ITEMS)
    )


def unseed(apps, schema_editor):
    apps.get_model("feedback", "ServqualItem").objects.filter(answers=None).delete()


class Migration(migrations.Migration):
    dependencies = [("feedback", "0001_surveys_invitations_responses")]

    operations = [migrations.RunPython(seed, unseed)]
