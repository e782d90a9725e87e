"""Background jobs of customer value: thin, they call services."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from kehu.insights import services


@db_periodic_task(crontab(hour="2", minute="30"))
def value_refresh_nightly():
    """Every night: every customer's value scores, from the settings' parameters."""
    refresh = services.value_refresh()
    return refresh.pk
