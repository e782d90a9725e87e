from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    name = "kehu.webhooks"
    verbose_name = _("Webhooks")
