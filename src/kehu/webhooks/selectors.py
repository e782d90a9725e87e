"""Reading webhook endpoints and their delivery log."""

from django.db.models import Count, Q, QuerySet

from kehu.webhooks.models import Delivery, Endpoint


def endpoint_list() -> QuerySet[Endpoint]:
    """Every endpoint with how many of its deliveries wait and how many failed for good."""
    return Endpoint.objects.annotate(
        pending=Count("deliveries", filter=Q(deliveries__status=Delivery.Status.PENDING)),
        failed=Count("deliveries", filter=Q(deliveries__status=Delivery.Status.FAILED)),
    ).order_by("pk")


def delivery_log(*, endpoint: Endpoint, page: int, page_size: int) -> tuple[list[Delivery], bool]:
    """One page of the endpoint's deliveries, latest first, and whether another follows."""
    rows = list(
        endpoint.deliveries.select_related("case")
        .defer("body")
        .order_by("-created_at", "-pk")[(page - 1) * page_size : page * page_size + 1]
    )
    return rows[:page_size], len(rows) > page_size
