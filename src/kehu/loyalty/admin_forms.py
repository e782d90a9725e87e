"""Forms of the programme's admin pages: its settings, tiers, rewards, offers, and the
transaction import."""

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from kehu.customers.models import Customer, Tag
from kehu.loyalty.models import Offer, Programme, Reward, Tier
from kehu.promises.forms import DueInput

MAX_LISTED = 5000


class ProgrammeForm(forms.ModelForm):
    class Meta:
        model = Programme
        fields = ["name", "points_per_unit", "expiry_days", "window_days", "grace_days"]
        help_texts = {
            "points_per_unit": _("Applies to purchases whose points are not earned yet."),
            "expiry_days": _("A shorter age expires, at the next nightly run, every lot older "
                             "than it."),
            "window_days": _("Spend, points or visits over this many days decide the tier, "
                             "from the next nightly run."),
            "grace_days": _("How long a member who no longer qualifies keeps the tier."),
        }


class TierForm(forms.ModelForm):
    class Meta:
        model = Tier
        fields = ["name", "rank", "metric", "threshold", "bonus_percent"]


class RewardForm(forms.ModelForm):
    class Meta:
        model = Reward
        fields = ["name", "description", "points", "stock", "min_tier", "valid_until",
                  "is_active"]
        widgets = {"valid_until": DueInput()}


class OfferForm(forms.ModelForm):
    tags = forms.ModelMultipleChoiceField(
        queryset=Tag.objects.all(), required=False, label=_("customers with these tags"),
        widget=forms.CheckboxSelectMultiple)
    customer_numbers = forms.CharField(
        label=_("these customers (customer numbers, one a line)"), required=False,
        widget=forms.Textarea(attrs={"rows": 4}))

    class Meta:
        model = Offer
        fields = ["name", "description", "starts_at", "ends_at", "min_tier", "segment",
                  "min_clv", "per_customer_limit", "is_active"]
        widgets = {"starts_at": DueInput(), "ends_at": DueInput()}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["tags"] = list(self.instance.tags.all())
            self.initial["customer_numbers"] = "\n".join(
                self.instance.customers.order_by("number").values_list("number", flat=True))

    def clean_customer_numbers(self) -> list[Customer]:
        numbers = list(dict.fromkeys(re.split(r"[\s,;，；]+", self.cleaned_data[
            "customer_numbers"].strip()))) if self.cleaned_data["customer_numbers"].strip() else []
        if len(numbers) > MAX_LISTED:
            raise forms.ValidationError(_("List at most %(n)d customers here; use a tag for "
                                          "more.") % {"n": MAX_LISTED})
        found = {c.number: c for c in Customer.objects.filter(number__in=numbers)}
        unknown = [n for n in numbers if n not in found]
        if unknown:
            raise forms.ValidationError(_("No customer with these numbers: %(numbers)s.") % {
                "numbers": ", ".join(unknown[:20])})
        return [found[n] for n in numbers]

    def service_kwargs(self) -> dict:
        data = dict(self.cleaned_data)
        data["customers"] = data.pop("customer_numbers")
        return data


class TransactionImportForm(forms.Form):
    file = forms.FileField(label=_("CSV or Excel file"))
    encoding = forms.ChoiceField(
        label=_("CSV encoding"), required=False,
        choices=[("", _("Detect (UTF-8 or GBK)")), ("utf-8", "UTF-8"), ("gb18030", "GBK")])
