from datetime import timedelta
from zoneinfo import ZoneInfo

import holidays
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from kehu.customers.forms import apply_service_errors
from kehu.customers.models import Customer
from kehu.service import selectors, services
from kehu.service.calendars import DayKind, business_time_per_week, weekly_hours_from_json
from kehu.service.forms import (
    CalendarDayForm,
    CalendarForm,
    CaseAssignForm,
    CaseForm,
    CaseNoteForm,
    NamedItemForm,
    PreviewForm,
    SlaPolicyForm,
)
from kehu.service.models import (
    BusinessCalendar,
    CalendarDay,
    Case,
    ComplaintCategory,
    RootCause,
    SlaPolicy,
)
from kehu.service.recovery_views import case_recovery_context
from kehu.users.permissions import require
from kehu.users.roles import Capability

HOUR = timedelta(hours=1)
# How far ahead the calendar page lists the holiday package's days.
PACKAGE_DAYS_AHEAD = timedelta(days=366)


@require(Capability.SERVICE_CONFIGURE)
def calendar_list(request):
    form = CalendarForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            calendar = services.calendar_create(**form.calendar_fields())
        except ValidationError as error:
            form.add_error(None, error.messages)
        else:
            messages.success(request, _("Calendar %(name)s created.") % {"name": calendar.name})
            return redirect("service:calendar", calendar.pk)
    calendars = [
        (calendar, business_time_per_week(weekly_hours_from_json(calendar.hours)) / HOUR)
        for calendar in selectors.calendar_list()
    ]
    today = timezone.localdate()
    return render(
        request,
        "service/calendars.html",
        {
            "calendars": calendars,
            "form": form,
            "provisional": selectors.provisional_years_ahead(today=today),
        },
    )


@require(Capability.SERVICE_CONFIGURE)
def calendar_edit(request, pk: int):
    calendar = get_object_or_404(BusinessCalendar, pk=pk)
    form = CalendarForm(request.POST or None, calendar=calendar)
    if request.method == "POST" and form.is_valid():
        try:
            services.calendar_update(calendar=calendar, **form.calendar_fields())
        except ValidationError as error:
            form.add_error(None, error.messages)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("service:calendar", calendar.pk)
    return _calendar_page(request, calendar, form=form, day_form=CalendarDayForm())


@require(Capability.SERVICE_CONFIGURE)
@require_POST
def calendar_day_add(request, pk: int):
    calendar = get_object_or_404(BusinessCalendar, pk=pk)
    day_form = CalendarDayForm(request.POST)
    if day_form.is_valid():
        services.calendar_day_set(
            calendar=calendar,
            day=day_form.cleaned_data["day"],
            kind=day_form.cleaned_data["kind"],
            name=day_form.cleaned_data["name"],
        )
        messages.success(request, _("Day saved."))
        return redirect("service:calendar", calendar.pk)
    return _calendar_page(
        request, calendar, form=CalendarForm(calendar=calendar), day_form=day_form
    )


@require(Capability.SERVICE_CONFIGURE)
@require_POST
def calendar_day_remove(request, pk: int, day_pk: int):
    override = get_object_or_404(CalendarDay, pk=day_pk, calendar_id=pk)
    services.calendar_day_delete(override=override)
    messages.success(request, _("Day removed: it follows the weekly hours and holiday data again."))
    return redirect("service:calendar", pk)


def _calendar_page(request, calendar: BusinessCalendar, *, form, day_form):
    """The calendar's settings, its override days, what the holiday package says for the
    coming year, and a preview of an SLA target started now."""
    working_time = selectors.working_time_for(calendar=calendar)
    preview_form = PreviewForm(request.GET or None)
    preview_hours = preview_form.cleaned_data["hours"] if preview_form.is_valid() else 8
    started = timezone.now()
    ends = working_time.deadline_after(start=started, business_duration=preview_hours * HOUR)
    ends_provisional = (
        ends.astimezone(working_time.time_zone).year if working_time.is_provisional(ends) else None
    )
    overrides = list(calendar.days.all())
    package_days = []
    if calendar.region:
        today = started.astimezone(ZoneInfo(calendar.time_zone)).date()
        language = "zh_CN" if translation.get_language().startswith("zh") else "en_US"
        overridden = {override.date for override in overrides}
        package_days = [
            (day, day.date in overridden)
            for day in selectors.package_days(
                region=calendar.region,
                start=today,
                end=today + PACKAGE_DAYS_AHEAD,
                language=language,
            )
        ]
    return render(
        request,
        "service/calendar.html",
        {
            "calendar": calendar,
            "form": form,
            "day_form": day_form,
            "preview_form": preview_form,
            "preview_hours": preview_hours,
            "started": started,
            "ends": ends,
            "ends_provisional": ends_provisional,
            "overrides": overrides,
            "package_days": package_days,
            "closed": DayKind.CLOSED,
            "holidays_version": holidays.__version__,
        },
    )


# --- Service cases ----------------------------------------------------------------------

CASES_PER_PAGE = 25
SLA_STATES = (
    (selectors.SlaState.ON_TRACK, _lazy("On track")),
    (selectors.SlaState.WARNING, _lazy("Warning")),
    (selectors.SlaState.BREACHED, _lazy("Breached")),
)


def _int(value: str | None, default: int) -> int:
    try:
        return int(value or default)
    except ValueError:
        return default


@require(Capability.CASE_VIEW)
def case_list(request):
    status = request.GET.get("status", "open")
    if status not in ("open", "all", *Case.Status.values):
        status = "open"
    sla = request.GET.get("sla", "")
    sla = sla if sla in dict(SLA_STATES) else ""
    mine = bool(request.GET.get("mine"))
    complainants = bool(request.GET.get("complainants"))
    page = max(_int(request.GET.get("page"), 1), 1)
    cases = selectors.case_list(
        status="" if status == "all" else status,
        owner=request.user if mine else None,
        sla_state=sla,
        frequent_complainants=complainants,
    )
    # One row more than a page says whether there is a next one, without counting them all.
    rows = list(cases[(page - 1) * CASES_PER_PAGE : page * CASES_PER_PAGE + 1])
    # Labels translated once per page: get_FOO_display rebuilds its choices on every call,
    # a third of the page's rendering time.
    kinds, priorities, statuses = (
        {value: str(label) for value, label in choices.choices}
        for choices in (Case.Kind, Case.Priority, Case.Status)
    )
    for case in rows:
        case.kind_label = kinds[case.kind]
        case.priority_label = priorities[case.priority]
        case.status_label = statuses[case.status]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "service/cases.html",
        {
            "cases": [(case, selectors.case_sla_state(case)) for case in rows[:CASES_PER_PAGE]],
            "page": page,
            "has_next": len(rows) > CASES_PER_PAGE,
            "status": status,
            "sla": sla,
            "mine": mine,
            "complainants": complainants,
            "statuses": Case.Status.choices,
            "sla_states": SLA_STATES,
            "base_query": query.urlencode(),
        },
    )


@require(Capability.CASE_EDIT)
def case_create(request):
    customer = get_object_or_404(
        Customer, pk=_int(request.GET.get("customer"), 0), merged_into=None
    )
    form = CaseForm(
        request.POST or None,
        customer=customer,
        initial={
            "kind": request.GET.get("kind", Case.Kind.COMPLAINT),
            "channel": request.GET.get("channel", Case.Channel.PHONE),
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            case = services.case_create(actor=request.user, customer=customer, **form.cleaned_data)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(
                request, _("Case %(reference)s opened.") % {"reference": case.reference}
            )
            return redirect("service:case", case.pk)
    return render(request, "service/case_form.html", {"form": form, "customer": customer})


@require(Capability.CASE_VIEW)
def case_detail(request, pk: int):
    try:
        case = selectors.case_detail(pk=pk)
    except Case.DoesNotExist:
        raise Http404 from None
    now = timezone.now()
    return render(
        request,
        "service/case.html",
        {
            "case": case,
            "sla_state": selectors.case_sla_state(case),
            "provisional": selectors.case_deadlines_provisional(case=case),
            "now": now,
            "history": selectors.case_history(case=case),
            "notes": selectors.case_notes(case=case),
            "next_statuses": [
                (status, Case.Status(status).label)
                for status in Case.Status.values
                if status in services.TRANSITIONS[case.status]
            ],
            "note_form": CaseNoteForm(initial={"version": case.version}),
            "assign_form": CaseAssignForm(
                initial={"version": case.version, "owner": case.owner_id, "team": case.team}
            ),
            **case_recovery_context(request, case),
        },
    )


def _case_write(request, pk: int, write) -> HttpResponse:
    """Runs one write on the case; a refusal (stale version, bad transition) is shown."""
    case = get_object_or_404(Case, pk=pk)
    try:
        write(case)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Changes saved."))
    return redirect("service:case", case.pk)


@require(Capability.CASE_EDIT)
@require_POST
def case_transition(request, pk: int):
    return _case_write(
        request,
        pk,
        lambda case: services.case_transition(
            actor=request.user,
            case=case,
            to=request.POST.get("to", ""),
            expected_version=_int(request.POST.get("version"), 0),
            root_cause=RootCause.objects.filter(
                pk=_int(request.POST.get("root_cause"), 0), is_active=True
            ).first(),
            root_cause_note=request.POST.get("root_cause_note", ""),
        ),
    )


@require(Capability.CASE_EDIT)
@require_POST
def case_note(request, pk: int):
    form = CaseNoteForm(request.POST)

    def write(case):
        if not form.is_valid():
            raise ValidationError([e for errors in form.errors.values() for e in errors])
        services.case_note_add(
            actor=request.user,
            case=case,
            kind=form.cleaned_data["kind"],
            body=form.cleaned_data["body"],
            expected_version=form.cleaned_data["version"],
        )

    return _case_write(request, pk, write)


@require(Capability.CASE_EDIT)
@require_POST
def case_assign(request, pk: int):
    form = CaseAssignForm(request.POST)

    def write(case):
        if not form.is_valid():
            raise ValidationError([e for errors in form.errors.values() for e in errors])
        services.case_assign(
            actor=request.user,
            case=case,
            owner=form.cleaned_data["owner"],
            team=form.cleaned_data["team"],
            expected_version=form.cleaned_data["version"],
        )

    return _case_write(request, pk, write)


# --- SLA policies and complaint categories ----------------------------------------------


@require(Capability.SERVICE_CONFIGURE)
def sla_policy_list(request):
    form = SlaPolicyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.sla_policy_create(**form.cleaned_data)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("Policy saved."))
            return redirect("service:policies")
    policies = SlaPolicy.objects.select_related("calendar").order_by(
        "-key_accounts", "kind", "priority", "name"
    )
    return render(request, "service/policies.html", {"policies": policies, "form": form})


@require(Capability.SERVICE_CONFIGURE)
def sla_policy_edit(request, pk: int):
    policy = get_object_or_404(SlaPolicy, pk=pk)
    if request.method == "POST" and request.POST.get("delete"):
        services.sla_policy_delete(policy=policy)
        messages.success(request, _("Policy deleted."))
        return redirect("service:policies")
    initial = {field: getattr(policy, field) for field in SlaPolicyForm.base_fields}
    form = SlaPolicyForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.sla_policy_update(policy=policy, **form.cleaned_data)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("Policy saved."))
            return redirect("service:policies")
    return render(request, "service/policy.html", {"policy": policy, "form": form})


def _named_items_page(request, *, create, items, title: str, added: str, edit_view: str):
    """Complaint categories and root causes: a code and a name each, added and retired by
    supervisors and admins."""
    form = NamedItemForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            create(**form.cleaned_data)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, added)
            return redirect(request.path)
    return render(
        request,
        "service/named_items.html",
        {"items": items, "form": form, "title": title, "edit_view": edit_view},
    )


def _named_item_edit(request, *, update, back: str) -> HttpResponse:
    try:
        update(name=request.POST.get("name", ""), is_active=bool(request.POST.get("is_active")))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Changes saved."))
    return redirect(back)


@require(Capability.SERVICE_CONFIGURE)
def complaint_category_list(request):
    return _named_items_page(
        request,
        create=services.complaint_category_create,
        items=ComplaintCategory.objects.all(),
        title=_("Complaint categories"),
        added=_("Category added."),
        edit_view="service:category",
    )


@require(Capability.SERVICE_CONFIGURE)
@require_POST
def complaint_category_edit(request, pk: int):
    category = get_object_or_404(ComplaintCategory, pk=pk)
    return _named_item_edit(
        request,
        update=lambda **fields: services.complaint_category_update(category=category, **fields),
        back="service:categories",
    )


@require(Capability.SERVICE_CONFIGURE)
def root_cause_list(request):
    return _named_items_page(
        request,
        create=services.root_cause_create,
        items=RootCause.objects.all(),
        title=_("Root causes"),
        added=_("Root cause added."),
        edit_view="service:root_cause",
    )


@require(Capability.SERVICE_CONFIGURE)
@require_POST
def root_cause_edit(request, pk: int):
    root_cause = get_object_or_404(RootCause, pk=pk)
    return _named_item_edit(
        request,
        update=lambda **fields: services.root_cause_update(root_cause=root_cause, **fields),
        back="service:root_causes",
    )
