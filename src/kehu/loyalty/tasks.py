"""Background jobs of loyalty: thin, they call services."""

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from kehu.loyalty import greetings, services


@db_periodic_task(crontab(minute="*/10"))
def points_earn():
    """Every ten minutes: points on new purchases, claw-backs on new refunds."""
    return services.points_earn_pending()


@db_periodic_task(crontab(hour="2", minute="30"))
def loyalty_nightly():
    """Every night: expire old points (FIFO by lot), then evaluate every member's tier."""
    now = timezone.now()
    services.points_earn_pending()
    return {"expired": services.points_expire(now=now), **services.tiers_evaluate(now=now)}


@db_periodic_task(crontab(minute="0"))
def loyalty_greetings():
    """Every hour (Huey's clock is UTC; the service waits for the morning in kehu's time
    zone): birthday and membership-anniversary greetings, each once a year."""
    return greetings.greetings_send(now=timezone.now())


@db_periodic_task(crontab(minute="15"))
def loyalty_tier_notices():
    """Every hour, so the night's tier changes are told in the morning at the latest."""
    return greetings.tier_notices_send(now=timezone.now())
