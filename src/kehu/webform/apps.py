from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebformConfig(AppConfig):
    name = "kehu.webform"
    verbose_name = _("Public web form")
