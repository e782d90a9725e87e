"""The 22 standard SERVQUAL statements, in English and Chinese; admins edit them."""

from django.db import migrations

from kehu.feedback.seeds import servqual_items_seed


def seed(apps, schema_editor):
    servqual_items_seed(apps.get_model("feedback", "ServqualItem"))


def unseed(apps, schema_editor):
    apps.get_model("feedback", "ServqualItem").objects.filter(answers=None).delete()


class Migration(migrations.Migration):
    dependencies = [("feedback", "0001_surveys_invitations_responses")]

    operations = [migrations.RunPython(seed, unseed)]
