from datetime import timedelta
from zoneinfo import ZoneInfo

import holidays
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.service import selectors, services
from kehu.service.calendars import DayKind, business_time_per_week, weekly_hours_from_json
from kehu.service.forms import CalendarDayForm, CalendarForm, PreviewForm
from kehu.service.models import BusinessCalendar, CalendarDay
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
    return render(request, "service/calendars.html", {"calendars": calendars, "form": form})


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
            "overrides": overrides,
            "package_days": package_days,
            "closed": DayKind.CLOSED,
            "holidays_version": holidays.__version__,
        },
    )
