from django.apps import AppConfig
from django.db.models.signals import post_save
from django.utils.translation import gettext_lazy as _


def _calls_follow_merge(sender, instance, update_fields=None, **kwargs) -> None:
    """A merged-away customer's calls move to the survivor, as its notes and phones do
    (customers.services.customer_merge), so they stay on the survivor's timeline and
    callback list and are logged there."""
    if instance.merged_into_id and (update_fields is None or "merged_into" in update_fields):
        from kehu.telephony.models import Call

        Call.objects.filter(customer=instance).update(customer=instance.merged_into_id)


class TelephonyConfig(AppConfig):
    name = "kehu.telephony"
    verbose_name = _("Telephony")

    def ready(self) -> None:
        post_save.connect(_calls_follow_merge, sender="customers.Customer",
                          dispatch_uid="telephony-calls-follow-merge")
