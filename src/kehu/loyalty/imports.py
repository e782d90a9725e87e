"""Transactions imported from a till or shop export, then the points they earn."""

from django.db.models import Max, Sum

from kehu.customers.transfer import ImportReport
from kehu.loyalty import services
from kehu.loyalty.models import PointsEntry
from kehu.sales import services as sales_services
from kehu.sales.models import Transaction
from kehu.users.models import User


def transactions_import_and_earn(*, actor: User | None, name: str, data: bytes,
                                 encoding: str = "") -> tuple[ImportReport, int]:
    """Imports the file through the sales service (every row checked, all written or none,
    a row already recorded by its external id left as it is), then earns the points of the
    new purchases and takes back those of the new refunds. Returns the report and the
    points earned, net of claw-backs.

    Earning runs after the import has committed: should it fail, the transactions stay and
    the ten-minute earning job gives them their points."""
    before = Transaction.objects.aggregate(last=Max("pk"))["last"] or 0
    report = sales_services.transactions_import(actor=actor, name=name, data=data,
                                                encoding=encoding)
    if not (report.written and report.created):
        return report, 0
    services.points_earn_pending()
    earned = PointsEntry.objects.filter(
        transaction_id__gt=before, kind__in=[PointsEntry.Kind.EARN, PointsEntry.Kind.CLAWBACK],
    ).aggregate(points=Sum("points"))["points"] or 0
    return report, earned
