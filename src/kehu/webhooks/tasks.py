"""Background jobs of the outbound webhooks: thin, they call services."""

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from kehu.webhooks import services


@db_task()
def delivery_send(delivery_id: int) -> None:
    """Right after the case write commits: the first attempt, without waiting a minute."""
    services.delivery_attempt(delivery_id=delivery_id, now=timezone.now())


@db_periodic_task(crontab(minute="*"))
def deliveries_send_due():
    """Every minute: retries whose back-off has passed, and anything a stopped worker left."""
    return services.deliveries_send_due(now=timezone.now())
