"""Customer value scores as the product stores them: the latest per customer, the refresh
that computed them, and what moved from one refresh to the next (domain §6)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Tier(models.TextChoices):
    """Profitability tiers (seed 002), as kehu.analytics.Tier names them (not imported:
    the analytics stack is loaded only where it computes)."""

    MOST_PROFITABLE = "most_profitable", _("Most profitable")
    SECOND_TIER = "second_tier", _("Second tier")
    UNPROFITABLE = "unprofitable", _("Unprofitable")
    LOSS_MAKING = "loss_making", _("Loss-making")


TIER_STRATEGY = {
    Tier.MOST_PROFITABLE: _(
        "Keep a good relationship; grow their contribution; lose none of them."
    ),
    Tier.SECOND_TIER: _(
        "Create products and services that meet their needs; actively raise their tier."
    ),
    Tier.UNPROFITABLE: _("Lower the cost to serve them; take a passive approach."),
    Tier.LOSS_MAKING: _("Analyse their potential contribution; consider an exit strategy."),
}


class Segment(models.TextChoices):
    """The RFM segments of kehu.analytics.DEFAULT_RULES, and `other`."""

    CHAMPIONS = "champions", pgettext_lazy("segment", "Champions")
    LOYAL = "loyal", pgettext_lazy("segment", "Loyal")
    POTENTIAL_LOYALISTS = "potential_loyalists", pgettext_lazy("segment", "Potential loyalists")
    NEW = "new", pgettext_lazy("segment", "New")
    PROMISING = "promising", pgettext_lazy("segment", "Promising")
    NEED_ATTENTION = "need_attention", pgettext_lazy("segment", "Need attention")
    ABOUT_TO_SLEEP = "about_to_sleep", pgettext_lazy("segment", "About to sleep")
    CANNOT_LOSE = "cannot_lose", pgettext_lazy("segment", "Cannot lose them")
    AT_RISK = "at_risk", pgettext_lazy("segment", "At risk")
    HIBERNATING = "hibernating", pgettext_lazy("segment", "Hibernating")
    OTHER = "other", pgettext_lazy("segment", "Other")


class ValueRefresh(models.Model):
    """One computation of every customer's scores, and the parameters it used."""

    at = models.DateTimeField(_("computed at"))
    as_of = models.DateField(_("analysis date"))
    horizon_days = models.PositiveIntegerField(_("horizon of expected purchases (days)"))
    clv_months = models.PositiveSmallIntegerField(_("months of lifetime value (30 days each)"))
    discount_rate = models.DecimalField(
        _("discount rate per month"), max_digits=6, decimal_places=4
    )
    churn_threshold = models.FloatField(_("churn risk below this probability of being alive"))
    transactions = models.PositiveIntegerField(_("transactions read"))
    customers = models.PositiveIntegerField(_("customers scored"))
    # The fitted BG/NBD and Gamma-Gamma parameters (α in days, γ in money).
    parameters = models.JSONField(_("model parameters"), default=dict, blank=True)
    # Why the predictions are missing, when a model could not be fitted to the data.
    note = models.CharField(_("note"), max_length=300, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("value refresh")

    def __str__(self) -> str:
        return f"{self.as_of} ({self.customers})"


class CustomerValue(models.Model):
    """A customer's latest scores, and the previous refresh's for "what changed"."""

    customer = models.OneToOneField(
        "customers.Customer",
        on_delete=models.CASCADE,
        related_name="value",
        verbose_name=_("customer"),
    )
    refresh = models.ForeignKey(ValueRefresh, on_delete=models.PROTECT, related_name="+")
    purchases = models.PositiveIntegerField(_("purchase days"))
    revenue = models.DecimalField(_("revenue"), max_digits=14, decimal_places=2)
    profit = models.DecimalField(_("profit"), max_digits=14, decimal_places=2, null=True)
    days_since_last = models.PositiveIntegerField(_("days since the last purchase"), null=True)
    tier = models.CharField(_("tier"), max_length=20, choices=Tier.choices, blank=True)
    abc_class = models.CharField(_("ABC class"), max_length=1, blank=True)
    r = models.PositiveSmallIntegerField("R", null=True)
    f = models.PositiveSmallIntegerField("F", null=True)
    m = models.PositiveSmallIntegerField("M", null=True)
    segment = models.CharField(_("segment"), max_length=30, choices=Segment.choices, blank=True)
    expected_purchases = models.FloatField(_("expected purchases"), null=True)
    probability_alive = models.FloatField(_("probability still a customer"), null=True)
    clv = models.DecimalField(_("lifetime value"), max_digits=14, decimal_places=2, null=True)
    churn_risk = models.BooleanField(_("churn risk"), default=False)
    previous_refresh = models.ForeignKey(
        ValueRefresh, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    previous_tier = models.CharField(max_length=20, choices=Tier.choices, blank=True)
    previous_segment = models.CharField(max_length=30, choices=Segment.choices, blank=True)
    previous_clv = models.DecimalField(max_digits=14, decimal_places=2, null=True)
    previous_churn_risk = models.BooleanField(null=True)

    class Meta:
        verbose_name = _("customer value")
        indexes = [
            models.Index(fields=["churn_risk", "clv"], name="value_churn_clv"),
            models.Index(fields=["segment"], name="value_segment"),
            models.Index(fields=["tier"], name="value_tier"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.tier or '-'} {self.segment or '-'}"

    @property
    def tier_strategy(self) -> str:
        return str(TIER_STRATEGY[Tier(self.tier)]) if self.tier else ""

    @property
    def clv_display(self) -> str:
        from kehu.service.selectors import money_display

        return "" if self.clv is None else money_display(self.clv)

    @property
    def clv_change_display(self) -> str:
        from kehu.service.selectors import money_display

        change = self.clv_change
        if change is None:
            return ""
        return ("+" if change >= 0 else "−") + money_display(abs(change))

    @property
    def alive_percent(self) -> int | None:
        return None if self.probability_alive is None else round(self.probability_alive * 100)

    @property
    def clv_change(self):
        if self.clv is None or self.previous_clv is None:
            return None
        return self.clv - self.previous_clv

    @property
    def moved(self) -> bool:
        """Whether tier, segment or churn risk differ from the previous refresh."""
        return self.previous_refresh_id is not None and (
            self.tier != self.previous_tier
            or self.segment != self.previous_segment
            or self.churn_risk != self.previous_churn_risk
        )


class ValueChange(models.Model):
    """History: a customer whose tier, segment or churn risk moved at a refresh."""

    refresh = models.ForeignKey(ValueRefresh, on_delete=models.CASCADE, related_name="changes")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="value_changes"
    )
    tier_from = models.CharField(max_length=20, choices=Tier.choices, blank=True)
    tier_to = models.CharField(max_length=20, choices=Tier.choices, blank=True)
    segment_from = models.CharField(max_length=30, choices=Segment.choices, blank=True)
    segment_to = models.CharField(max_length=30, choices=Segment.choices, blank=True)
    churn_risk_from = models.BooleanField()
    churn_risk_to = models.BooleanField()
    clv_from = models.DecimalField(max_digits=14, decimal_places=2, null=True)
    clv_to = models.DecimalField(max_digits=14, decimal_places=2, null=True)

    class Meta:
        ordering = ["-refresh_id", "customer_id"]
        verbose_name = _("value change")
        constraints = [
            models.UniqueConstraint(fields=["refresh", "customer"], name="value_change_once")
        ]
        indexes = [models.Index(fields=["customer", "refresh"], name="value_change_customer")]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.segment_from} → {self.segment_to}"
