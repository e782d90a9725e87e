"""Pages: my day, promises and follow-ups on the customer card, visits, policies, the
calendar feed and the promise report."""

from datetime import datetime, time, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from icalendar import Calendar, Event

from kehu.customers.forms import apply_service_errors
from kehu.customers.models import Customer
from kehu.promises import selectors, services
from kehu.promises.forms import (
    BreakForm,
    CommitmentForm,
    CompleteForm,
    FollowUpForm,
    KeepForm,
    PolicyForm,
    RenegotiateForm,
    RescheduleForm,
    VisitRecordForm,
)
from kehu.promises.models import Commitment, FollowUp, FollowUpPolicy, Visit
from kehu.service.models import Case
from kehu.users.models import User, secret_digest
from kehu.users.permissions import require
from kehu.users.roles import Capability
from kehu.web import period_asked, redirect_back


def _write(request, form, write, *, default: str, done: str) -> HttpResponse:
    """Runs one write from a small inline form; a refusal is shown as a message."""
    try:
        if not form.is_valid():
            raise ValidationError([e for errors in form.errors.values() for e in errors])
        write(form.cleaned_data)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, done)
    return redirect_back(request, default)


# --- My day -----------------------------------------------------------------------------


@require(Capability.FOLLOW_UP_WORK)
def my_day(request):
    person, users = request.user, [request.user]
    manages = request.user.can(Capability.FOLLOW_UP_MANAGE)
    # A supervisor sees their team by default (everyone's, when they have no team).
    team = selectors.team_members(team=request.user.team) if manages else []
    if manages and request.GET.get("user") == "team":
        person, users = None, list(team)
    elif manages and request.GET.get("user", "").isdigit():
        person = get_object_or_404(User, pk=request.GET["user"], is_active=True)
        users = [person]
    now = timezone.now()
    return render(
        request,
        "promises/my_day.html",
        {
            "person": person,
            "items": selectors.my_day(users=users, now=now),
            "now": now,
            "people": team,
            "tomorrow": datetime.combine(
                timezone.localdate(now) + timedelta(days=1),
                time(9),
                tzinfo=timezone.get_current_timezone(),
            ),
        },
    )


# --- Promises ---------------------------------------------------------------------------


@require(Capability.FOLLOW_UP_WORK)
@require_POST
def commitment_create(request, customer_pk: int):
    customer = get_object_or_404(Customer, pk=customer_pk)
    case = None
    if request.POST.get("case", "").isdigit():
        case = get_object_or_404(Case, pk=request.POST["case"])
    form = CommitmentForm(request.POST)
    return _write(
        request,
        form,
        lambda data: services.commitment_create(
            actor=request.user, customer=customer, case=case, **data
        ),
        default=reverse("customers:card", args=[customer.pk]),
        done=_("Promise written on the customer card."),
    )


@require(Capability.FOLLOW_UP_WORK)
@require_POST
def commitment_keep(request, pk: int):
    commitment = get_object_or_404(Commitment, pk=pk)
    return _write(
        request,
        KeepForm(request.POST),
        lambda data: services.commitment_keep(
            actor=request.user,
            commitment=commitment,
            evidence=data["evidence"],
            expected_version=data["version"],
        ),
        default=reverse("promises:my_day"),
        done=_("Promise kept."),
    )


@require(Capability.FOLLOW_UP_WORK)
@require_POST
def commitment_break(request, pk: int):
    commitment = get_object_or_404(Commitment, pk=pk)
    return _write(
        request,
        BreakForm(request.POST),
        lambda data: services.commitment_break(
            actor=request.user,
            commitment=commitment,
            reason=data["reason"],
            expected_version=data["version"],
        ),
        default=reverse("promises:my_day"),
        done=_("Recorded as broken."),
    )


@require(Capability.FOLLOW_UP_WORK)
@require_POST
def commitment_renegotiate(request, pk: int):
    commitment = get_object_or_404(Commitment, pk=pk)
    return _write(
        request,
        RenegotiateForm(request.POST),
        lambda data: services.commitment_renegotiate(
            actor=request.user,
            commitment=commitment,
            due_at=data["due_at"],
            reason=data["reason"],
            expected_version=data["version"],
        ),
        default=reverse("promises:my_day"),
        done=_("Promise moved."),
    )


# --- Follow-ups and visits --------------------------------------------------------------


@require(Capability.FOLLOW_UP_WORK)
def follow_up_create(request, customer_pk: int):
    customer = get_object_or_404(Customer, pk=customer_pk, merged_into=None)
    form = FollowUpForm(
        request.POST or None,
        customer=customer,
        initial={"kind": request.GET.get("kind", "callback")},
    )
    if request.method == "POST" and form.is_valid():
        try:
            follow_up = services.follow_up_create(
                actor=request.user, customer=customer, **form.cleaned_data
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("Follow-up booked."))
            if follow_up.kind == FollowUp.Kind.VISIT:
                return redirect("promises:visit", follow_up.pk)
            return redirect("customers:card", customer.pk)
    return render(request, "promises/follow_up_form.html", {"form": form, "customer": customer})


@require(Capability.FOLLOW_UP_WORK)
@require_POST
def follow_up_complete(request, pk: int):
    follow_up = get_object_or_404(FollowUp, pk=pk)
    return _write(
        request,
        CompleteForm(request.POST),
        lambda data: services.follow_up_complete(
            actor=request.user,
            follow_up=follow_up,
            outcome=data["outcome"],
            expected_version=data["version"],
        ),
        default=reverse("promises:my_day"),
        done=_("Done, and on the customer's timeline."),
    )


@require(Capability.FOLLOW_UP_WORK)
@require_POST
def follow_up_reschedule(request, pk: int):
    follow_up = get_object_or_404(FollowUp, pk=pk)
    return _write(
        request,
        RescheduleForm(request.POST),
        lambda data: services.follow_up_reschedule(
            actor=request.user,
            follow_up=follow_up,
            due_at=data["due_at"],
            expected_version=data["version"],
        ),
        default=reverse("promises:my_day"),
        done=_("Rescheduled."),
    )


@require(Capability.FOLLOW_UP_WORK)
def visit_detail(request, pk: int):
    visit = get_object_or_404(
        Visit.objects.select_related("follow_up__customer", "follow_up__owner"), follow_up_id=pk
    )
    follow_up = visit.follow_up
    record_form = VisitRecordForm(
        request.POST if request.POST.get("step") == "record" else None,
        customer=follow_up.customer,
        initial={"version": follow_up.version},
    )
    if request.method == "POST":
        step = request.POST.get("step")
        try:
            version = int(request.POST.get("version", "0"))
            if step == "prepare":
                services.visit_prepare(
                    actor=request.user,
                    visit=visit,
                    done_items=[int(i) for i in request.POST.getlist("done")],
                    expected_version=version,
                )
            elif step == "confirm":
                services.visit_confirm(actor=request.user, visit=visit, expected_version=version)
            elif step == "record" and record_form.is_valid():
                data = dict(record_form.cleaned_data)
                services.visit_record(
                    actor=request.user,
                    visit=visit,
                    expected_version=data.pop("version"),
                    **data,
                )
            else:
                raise ValidationError(_("Check the form."))
        except (ValidationError, ValueError) as error:
            if isinstance(error, ValidationError) and step == "record":
                apply_service_errors(record_form, error)
            messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
        else:
            messages.success(request, _("Changes saved."))
            return redirect("promises:visit", follow_up.pk)
    return render(
        request,
        "promises/visit.html",
        {"visit": visit, "follow_up": follow_up, "record_form": record_form},
    )


# --- Policies, the calendar feed, the report --------------------------------------------


@require(Capability.SERVICE_CONFIGURE)
def policy_list(request):
    editing = None
    if request.GET.get("edit"):
        editing = get_object_or_404(FollowUpPolicy, pk=request.GET["edit"])
    form = PolicyForm(request.POST or None, instance=editing)
    if request.method == "POST" and form.is_valid():
        try:
            services.follow_up_policy_save(policy=form.save(commit=False))
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("promises:policies")
    return render(
        request,
        "promises/policies.html",
        {
            "policies": FollowUpPolicy.objects.select_related("owner"),
            "form": form,
            "editing": editing,
        },
    )


@require(Capability.FOLLOW_UP_WORK)
def calendar_feed(request):
    token = None
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            services.calendar_feed_revoke(user=request.user)
            messages.success(request, _("The old address no longer works."))
        else:
            token = services.calendar_feed_create(user=request.user)
    return render(
        request,
        "promises/calendar.html",
        {
            "feed_url": request.build_absolute_uri(reverse("promises:feed", args=[token]))
            if token
            else None,
            "has_feed": hasattr(request.user, "calendar_feed")
            and request.user.calendar_feed is not None,
        },
    )


@login_not_required
def feed(request, token: str):
    """The iCalendar feed: the secret address is the only key, so a wrong one is a 404."""
    user = selectors.feed_user(token_hash=secret_digest(token))
    if user is None:
        raise Http404
    now = timezone.now()
    commitments, follow_ups = selectors.feed_items(user=user, now=now)
    calendar = Calendar()
    calendar.add("prodid", "-//kehu//promises and follow-ups//")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"kehu · {user}")
    host = request.get_host()
    for commitment in commitments:
        event = Event()
        event.add("uid", f"promise-{commitment.pk}@{host}")
        event.add("summary", _("Promise: %(what)s") % {"what": commitment.promise})
        event.add("description", commitment.customer.name)
        event.add("dtstart", commitment.due_at)
        event.add("dtend", commitment.due_at + timedelta(minutes=15))
        event.add("dtstamp", now)
        calendar.add_component(event)
    for follow_up in follow_ups:
        event = Event()
        event.add("uid", f"follow-up-{follow_up.pk}@{host}")
        event.add("summary", f"{follow_up.get_kind_display()}: {follow_up.purpose}")
        event.add("description", follow_up.customer.name)
        if follow_up.kind == FollowUp.Kind.VISIT and follow_up.visit.place:
            event.add("location", follow_up.visit.place)
        event.add("dtstart", follow_up.due_at)
        event.add("dtend", follow_up.due_at + timedelta(minutes=30))
        event.add("dtstamp", now)
        calendar.add_component(event)
    response = HttpResponse(calendar.to_ical(), content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, no-store"
    return response


@require(Capability.SERVICE_REPORTS_VIEW)
def promise_report(request):
    start, end, first, last = period_asked(
        request, default_first=timezone.localdate().replace(day=1)
    )
    by = "team" if request.GET.get("by") == "team" else "owner"
    return render(
        request,
        "promises/report.html",
        {
            "records": selectors.promise_report(start=start, end=end, now=timezone.now(), by=by),
            "by": by,
            "from": first.isoformat(),
            "to": last.isoformat(),
        },
    )
