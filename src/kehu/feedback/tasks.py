"""Background jobs of satisfaction and feedback: thin, they call services."""

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from kehu.feedback import services


@db_periodic_task(crontab(minute="*/15"))
def surveys_trigger():
    """Every quarter of an hour: invite whom the surveys' triggers ask for, never twice."""
    return services.surveys_trigger(now=timezone.now())
