"""Transactions: what customers bought and returned, the raw material of value and loyalty."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Transaction(models.Model):
    """One purchase or refund. Amounts are positive; the kind says which way money went."""

    class Kind(models.TextChoices):
        PURCHASE = "purchase", pgettext_lazy("transaction", "Purchase")
        REFUND = "refund", pgettext_lazy("transaction", "Refund")

    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        related_name="transactions",
        verbose_name=_("customer"),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.PURCHASE)
    occurred_at = models.DateTimeField(_("time"))
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    cost = models.DecimalField(_("cost"), max_digits=14, decimal_places=2, null=True, blank=True)
    product = models.CharField(_("product"), max_length=200, blank=True)
    category = models.CharField(_("category"), max_length=100, blank=True)
    channel = models.CharField(_("channel"), max_length=50, blank=True)
    external_id = models.CharField(
        _("external id"), max_length=100, null=True, blank=True, unique=True
    )
    refund_of = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="refunds",
        verbose_name=_("refund of"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-pk"]
        verbose_name = _("transaction")
        indexes = [
            models.Index(fields=["customer", "occurred_at"], name="txn_customer_time"),
            models.Index(fields=["occurred_at"], name="txn_time"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="txn_amount_positive"),
            models.CheckConstraint(
                condition=Q(refund_of__isnull=True) | Q(kind="refund"),
                name="txn_only_refunds_refund",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} {self.currency}"

    @property
    def amount_display(self) -> str:
        from kehu.service.selectors import money_display

        return money_display(self.amount, self.currency)

    @property
    def signed_amount(self):
        return -self.amount if self.kind == self.Kind.REFUND else self.amount
