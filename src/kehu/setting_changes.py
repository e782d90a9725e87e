"""The change log of a settings page: who changed which setting, from what to what."""

from decimal import Decimal

from django.conf import settings
from django.db import models


class SettingChange(models.Model):
    """One changed setting. Each app keeps its own log (its settings model in
    `settings_model`, and `from_value`/`to_value` as long as its settings' text)."""

    settings_model: type[models.Model]

    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    field = models.CharField(max_length=50)

    class Meta:
        abstract = True
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.field}: {self.from_value} → {self.to_value}"

    @property
    def field_label(self) -> str:
        return str(self.settings_model._meta.get_field(self.field).verbose_name)


def setting_text(value) -> str:
    """A setting as the log shows it: 5, 5.0 and 5.00 alike read "5"."""
    return format(value.normalize(), "f") if isinstance(value, Decimal) else str(value)


def setting_changes_record(log: type[SettingChange], *, actor, at, before: dict,
                           after: dict) -> None:
    """One entry for each setting whose text differs, in the order of `before`."""
    log.objects.bulk_create(
        log(at=at, actor=actor, field=name, from_value=setting_text(before[name]),
            to_value=setting_text(after[name]))
        for name in before if setting_text(before[name]) != setting_text(after[name])
    )
