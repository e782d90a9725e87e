"""Background jobs of the service desk: thin, they call services."""

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from kehu.service import services


@db_periodic_task(crontab(minute="*"))
def case_sla_sweep():
    """Every minute: record SLA breaches and warnings the moment they happen, and tell
    the people concerned."""
    now = timezone.now()
    found = services.case_sla_sweep(now=now)
    services.sla_notifications_send(now=now)
    return found


@db_periodic_task(crontab(minute="10", hour="8"))
def provisional_year_notices_send():
    """Every morning: tell supervisors once when a year of unpublished holidays is near."""
    return services.provisional_year_notices_send(now=timezone.now())
