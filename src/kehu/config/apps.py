from django.apps import AppConfig
from django.db.backends.signals import connection_created

from kehu.db import checkpoints_start


class ConfigConfig(AppConfig):
    name = "kehu.config"
    verbose_name = "kehu"

    def ready(self) -> None:
        connection_created.connect(checkpoints_start, dispatch_uid="kehu.db.checkpoints")
