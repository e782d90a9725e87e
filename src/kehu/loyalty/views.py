"""Pages: a member's points and rewards, the loyalty block of the card and call panel,
and the loyalty report."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.customers.models import Customer
from kehu.loyalty import selectors, services
from kehu.loyalty.forms import AdjustForm, RedeemForm
from kehu.loyalty.models import Member, Offer
from kehu.users.permissions import require
from kehu.users.roles import Capability


@require(Capability.CUSTOMER_VIEW)
def member_detail(request, pk: int):
    member = get_object_or_404(Member.objects.select_related("customer", "tier"), pk=pk)
    return render(request, "loyalty/member.html", {
        "member": member,
        "entries": selectors.member_entries(member=member).select_related("created_by")[:100],
        "tier_changes": selectors.member_tier_history(member=member)[:20],
        "redeem_form": RedeemForm(rewards=selectors.rewards_available(member=member)),
        "adjust_form": AdjustForm(),
    })


def _refused(request, error: ValidationError) -> None:
    messages.error(request, " ".join(error.messages))


@require_POST
@require(Capability.LOYALTY_WORK)
def member_enrol(request, customer_pk: int):
    customer = get_object_or_404(Customer, pk=customer_pk)
    try:
        member = services.member_enrol(actor=request.user, customer=customer)
    except ValidationError as error:
        _refused(request, error)
        return redirect("customers:card", pk=customer.pk)
    messages.success(request, _("%(name)s is now member %(number)s.") % {
        "name": customer.name, "number": member.number})
    return redirect("loyalty:member", pk=member.pk)


@require_POST
@require(Capability.LOYALTY_WORK)
def member_redeem(request, pk: int):
    member = get_object_or_404(Member, pk=pk)
    form = RedeemForm(request.POST, rewards=selectors.rewards_available())
    try:
        if not form.is_valid():
            raise ValidationError([e for errors in form.errors.values() for e in errors])
        redemption = services.reward_redeem(
            actor=request.user, member=member, reward=form.cleaned_data["reward"],
            quantity=form.cleaned_data["quantity"])
    except ValidationError as error:
        _refused(request, error)
    else:
        messages.success(request, _("Redeemed %(reward)s for %(points)d points.") % {
            "reward": redemption.reward.name, "points": redemption.points})
    return redirect("loyalty:member", pk=member.pk)


@require_POST
@require(Capability.LOYALTY_MANAGE)
def member_adjust(request, pk: int):
    member = get_object_or_404(Member, pk=pk)
    form = AdjustForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError([e for errors in form.errors.values() for e in errors])
        services.points_adjust(actor=request.user, member=member, **form.cleaned_data)
    except ValidationError as error:
        _refused(request, error)
    else:
        messages.success(request, _("Points adjusted."))
    return redirect("loyalty:member", pk=member.pk)


@require(Capability.CUSTOMER_VIEW)
def customer_offers(request, customer_pk: int):
    """htmx: the offers this customer has, and for the others why not and what to say."""
    customer = get_object_or_404(Customer, pk=customer_pk)
    return render(request, "loyalty/partials/customer_offers.html",
                  {"customer": customer} | selectors.customer_loyalty(customer=customer))


@require_POST
@require(Capability.LOYALTY_WORK)
def offer_use(request, pk: int, customer_pk: int):
    offer = get_object_or_404(Offer, pk=pk)
    customer = get_object_or_404(Customer, pk=customer_pk)
    try:
        services.offer_use(actor=request.user, offer=offer, customer=customer)
    except ValidationError as error:
        _refused(request, error)
    else:
        messages.success(request, _("Offer recorded as taken."))
    return redirect("customers:card", pk=customer.pk)


@require(Capability.SERVICE_REPORTS_VIEW)
def loyalty_report(request):
    return render(request, "loyalty/report.html", {
        "tiers": selectors.report_members_by_tier(),
        "points": selectors.report_points(),
        "offers": selectors.report_offers(),
        "buying": selectors.report_repeat_and_cross(),
    })
