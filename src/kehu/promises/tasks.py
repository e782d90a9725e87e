"""Background jobs of promises and follow-ups: thin, they call services."""

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from kehu.promises import services


@db_periodic_task(crontab(minute="*"))
def promises_remind():
    """Every minute: remind owners of promises coming due, flag the overdue ones."""
    return services.promises_remind(now=timezone.now())


@db_periodic_task(crontab(minute="*/15"))
def follow_ups_generate():
    """Every quarter of an hour: the follow-ups the policies ask for, never twice."""
    return services.follow_ups_generate(now=timezone.now())
