from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from kehu.webform import services


@db_periodic_task(crontab(minute="17"))
def submission_windows_prune():
    """Hourly: forget the addresses that have not submitted within the window."""
    return services.submission_windows_prune(now=timezone.now())
