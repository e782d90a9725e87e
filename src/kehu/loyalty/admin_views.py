"""The programme's admin pages: its settings, tiers, rewards (stock, tier limits) and offers
(who may have them, when, how often), for LOYALTY_MANAGE; and the transaction import, for
SALES_RECORD."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from kehu.customers.forms import apply_service_errors
from kehu.customers.transfer import ImportFileError
from kehu.loyalty import catalogue, imports, services
from kehu.loyalty.admin_forms import (
    OfferForm,
    ProgrammeForm,
    RewardForm,
    TierForm,
    TransactionImportForm,
)
from kehu.loyalty.models import Offer, ProgrammeChange, Reward, Tier
from kehu.users.permissions import require
from kehu.users.roles import Capability

# Per thing: the model, its form, and the service that saves it.
THINGS = {
    "tier": (Tier, TierForm, catalogue.tier_save),
    "reward": (Reward, RewardForm, catalogue.reward_save),
    "offer": (Offer, OfferForm, catalogue.offer_save),
}


@require(Capability.LOYALTY_MANAGE)
def programme_manage(request):
    return render(request, "loyalty/manage.html", {
        "programme": services.programme_get(),
        "programme_changes": ProgrammeChange.objects.select_related("actor")[:20],
        "tiers": Tier.objects.annotate(n=Count("members")).order_by("rank"),
        "rewards": Reward.objects.select_related("min_tier"),
        "offers": Offer.objects.select_related("min_tier").annotate(
            listed=Count("customers", distinct=True), tag_n=Count("tags", distinct=True)),
    })


def _saved(request, form, save) -> bool:
    """Whether a posted, valid form was saved by `save()`; a service's refusal is shown on
    the form and nothing is saved."""
    if request.method != "POST" or not form.is_valid():
        return False
    try:
        save()
    except ValidationError as error:
        apply_service_errors(form, error)
        return False
    messages.success(request, _("Changes saved."))
    return True


@require(Capability.LOYALTY_MANAGE)
def programme_edit(request):
    """The programme's name, earning rate, expiry age, tier window and grace period; bad
    input is shown on the form and nothing is saved."""
    form = ProgrammeForm(request.POST or None, instance=services.programme_get())
    if _saved(request, form, lambda: services.programme_update(
            actor=request.user, **form.cleaned_data)):
        return redirect("loyalty:manage")
    return render(request, "loyalty/manage_form.html", {
        "form": form, "title": _("Programme settings"), "instance": None,
    })


def _titles(thing: str, new: bool) -> str:
    return {
        ("tier", True): _("New tier"), ("tier", False): _("Edit tier"),
        ("reward", True): _("New reward"), ("reward", False): _("Edit reward"),
        ("offer", True): _("New offer"), ("offer", False): _("Edit offer"),
    }[thing, new]


@require(Capability.LOYALTY_MANAGE)
def thing_edit(request, thing: str, pk: int | None = None):
    """Creates (no pk) or changes a tier, reward or offer; bad input is shown on the form
    and nothing is saved."""
    model, form_class, save = THINGS[thing]
    instance = get_object_or_404(model, pk=pk) if pk is not None else None
    form = form_class(request.POST or None, instance=instance)
    if _saved(request, form, lambda: save(actor=request.user, **{thing: instance}, **(
            form.service_kwargs() if hasattr(form, "service_kwargs") else form.cleaned_data))):
        return redirect("loyalty:manage")
    return render(request, "loyalty/manage_form.html", {
        "form": form, "title": _titles(thing, instance is None), "instance": instance,
    })


@require(Capability.SALES_RECORD)
def transactions_import(request):
    """Upload a CSV or Excel file of purchases and refunds: all rows or none, a report of
    the rejected ones, then the points."""
    form = TransactionImportForm(request.POST or None, request.FILES or None)
    report = earned = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            report, earned = imports.transactions_import_and_earn(
                actor=request.user, name=upload.name, data=upload.read(),
                encoding=form.cleaned_data["encoding"])
        except ImportFileError as error:
            form.add_error("file", str(error))
        except ValidationError as error:
            apply_service_errors(form, error)
    return render(request, "loyalty/import.html", {
        "form": form, "report": report, "earned": earned,
    })
