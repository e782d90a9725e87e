"""Staff pages: surveys and SERVQUAL items (supervisors, admins), sending, and the
satisfaction page with its charts and CSV export (service reports)."""

import csv
from datetime import datetime, timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.customers.choices import CustomerStatus
from kehu.customers.forms import apply_service_errors
from kehu.customers.models import Customer
from kehu.feedback import selectors, services
from kehu.feedback.forms import QuestionForm, SendForm, ServqualItemForm, SurveyEditForm, SurveyForm
from kehu.feedback.models import Invitation, Reading, ServqualItem, Survey
from kehu.insights.models import Segment
from kehu.users.permissions import require
from kehu.users.roles import Capability
from kehu.web import redirect_back

PERIODS = (30, 90, 365)


@require(Capability.SURVEY_MANAGE)
def survey_list(request):
    form = SurveyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            survey = services.survey_create(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("Survey created."))
            return redirect("feedback:survey", pk=survey.pk)
    return render(
        request, "feedback/surveys.html", {"surveys": selectors.survey_list(), "form": form}
    )


def _customers_for(data) -> list[Customer] | None:
    number, tag = data["customer_number"].strip(), data["tag"].strip()
    live = Customer.objects.filter(merged_into=None)
    if number:
        found = live.filter(number=number).first()
        return [found] if found else None
    return list(live.filter(tags__name=tag).distinct())


@require(Capability.SURVEY_MANAGE)
def survey_detail(request, pk: int):
    survey = get_object_or_404(Survey, pk=pk)
    action = request.POST.get("action", "")
    edit_form = SurveyEditForm(request.POST if action == "edit" else None, instance=survey)
    question_form = QuestionForm(request.POST if action == "question" else None)
    send_form = SendForm(request.POST if action == "send" else None)
    if action == "edit" and edit_form.is_valid():
        try:
            services.survey_update(actor=request.user, survey=survey, **edit_form.cleaned_data)
        except ValidationError as error:
            apply_service_errors(edit_form, error)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("feedback:survey", pk=survey.pk)
    if action == "question" and question_form.is_valid():
        try:
            services.question_add(actor=request.user, survey=survey, **question_form.cleaned_data)
        except ValidationError as error:
            apply_service_errors(question_form, error)
        else:
            return redirect("feedback:survey", pk=survey.pk)
    if action == "send" and send_form.is_valid():
        customers = _customers_for(send_form.cleaned_data)
        if customers is None:
            send_form.add_error("customer_number", _("No such customer."))
        else:
            counts = services.survey_send(
                actor=request.user,
                survey=survey,
                customers=customers,
                language=send_form.cleaned_data["language"],
            )
            messages.success(
                request,
                _(
                    "Sent: %(sent)s. Asked recently, not sent: %(throttled)s. No address: "
                    "%(no_address)s. Already sent today: %(already)s."
                )
                % counts,
            )
            return redirect("feedback:survey", pk=survey.pk)
    survey = selectors.survey_list().get(pk=pk)
    return render(
        request,
        "feedback/survey.html",
        {
            "survey": survey,
            "edit_form": edit_form,
            "question_form": question_form,
            "send_form": send_form,
            "questions": survey.questions.all(),
            "invitations": survey.invitations.select_related("customer")[:50],
            "can_resend": request.user.can(Capability.CUSTOMER_EDIT),
            "can_override": True,
            "next": request.path,
        },
    )


@require(Capability.CUSTOMER_VIEW)
def customer_invitations(request, customer_pk: int):
    """The customer's survey links, with re-send and revoke: a fragment of the card."""
    customer = get_object_or_404(Customer, pk=customer_pk)
    return render(
        request,
        "feedback/partials/customer_invitations.html",
        {
            "customer": customer,
            "invitations": selectors.customer_invitations(customer=customer),
            "can_resend": request.user.can(Capability.CUSTOMER_EDIT),
            "can_override": request.user.can(Capability.SURVEY_MANAGE),
            "next": request.GET.get("next", ""),
        },
    )


def _invitation_write(request, pk: int, write, *, done: str):
    invitation = get_object_or_404(Invitation, pk=pk)
    try:
        write(invitation)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, done)
    return redirect_back(request, reverse("customers:card", args=[invitation.customer_id]))


@require(Capability.CUSTOMER_EDIT)
@require_POST
def invitation_resend(request, pk: int):
    return _invitation_write(
        request,
        pk,
        lambda invitation: services.invitation_resend(
            actor=request.user,
            invitation=invitation,
            override_throttle=request.POST.get("override") == "on",
        ),
        done=_("A new link was sent; the old one no longer works."),
    )


@require(Capability.CUSTOMER_EDIT)
@require_POST
def invitation_revoke(request, pk: int):
    return _invitation_write(
        request,
        pk,
        lambda invitation: services.invitation_revoke(actor=request.user, invitation=invitation),
        done=_("The link was revoked."),
    )


@require(Capability.SURVEY_MANAGE)
def servqual_items(request):
    item = None
    if request.method == "POST" and request.POST.get("pk"):
        item = get_object_or_404(ServqualItem, pk=request.POST["pk"])
    form = ServqualItemForm(request.POST or None, instance=item)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if item is None:
                services.servqual_item_create(
                    actor=request.user,
                    dimension=data["dimension"],
                    text_en=data["text_en"],
                    text_zh=data["text_zh"],
                )
            else:
                services.servqual_item_update(
                    actor=request.user,
                    item=ServqualItem.objects.get(pk=item.pk),
                    text_en=data["text_en"],
                    text_zh=data["text_zh"],
                    is_active=data["is_active"],
                )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Changes saved."))
        return redirect("feedback:servqual_items")
    return render(
        request,
        "feedback/servqual_items.html",
        {"items": ServqualItem.objects.all(), "form": ServqualItemForm()},
    )


def _since(request) -> tuple[int, datetime]:
    try:
        days = int(request.GET.get("days", 90))
    except ValueError:
        days = 90
    days = days if days in PERIODS else 90
    return days, timezone.now() - timedelta(days=days)


@require(Capability.SERVICE_REPORTS_VIEW)
def results(request):
    days, since = _since(request)
    rows = selectors.responses(since=since)
    if request.GET.get("format") == "csv":
        return _csv(rows)
    months = selectors.trend(rows, by="month")
    dimensions = selectors.servqual_dimensions(rows)
    exits = selectors.exit_reasons(rows)
    chart = {
        "months": [r["key"].strftime("%Y-%m") if r["key"] else "" for r in months],
        "nps": [round(r["nps"]["nps"], 1) if r["nps"]["n"] else None for r in months],
        "csat": [
            round(r["csat_percent"], 1) if r["csat_percent"] is not None else None for r in months
        ],
        "dimensions": [str(d["label"]) for d in dimensions],
        "expectation": [round(d["expectation"], 2) for d in dimensions],
        "perception": [round(d["perception"], 2) for d in dimensions],
        "exit_labels": [str(e["label"]) for e in exits],
        "exit_actual": [round(100 * e["share"], 1) if e["share"] is not None else 0 for e in exits],
        "exit_expected": [round(100 * e["expected"], 1) for e in exits],
        "labels": {
            "nps": "NPS",
            "csat": _("CSAT %"),
            "expectation": _("Expectation"),
            "perception": _("Perception"),
            "actual": _("Our exit answers %"),
            "expected": _("Seed 003 %"),
        },
    }
    return render(
        request,
        "feedback/results.html",
        {
            "days": days,
            "periods": PERIODS,
            "scores": selectors.scores(rows),
            "months": months,
            "agents": selectors.trend(rows, by="agent"),
            "categories": selectors.trend(rows, by="category"),
            "teams": selectors.trend(rows, by="team"),
            "segments": selectors.trend(rows, by="segment"),
            "statuses": [
                {**row, "key": CustomerStatus(row["key"]).label}
                for row in selectors.trend(rows, by="status")
            ],
            "value_segments": [
                {**row, "key": Segment(row["key"]).label if row["key"] else None}
                for row in selectors.trend(rows, by="value")
            ],
            "items": selectors.servqual_items(rows),
            "dimensions": dimensions,
            "readings": selectors.servqual_readings(rows)[:50],
            "reading_counts": [
                (Reading(key).label, n) for key, n in selectors.reading_counts(rows).items()
            ],
            "verbatims": selectors.verbatim_groups(rows),
            "exits": exits,
            "chart": chart,
        },
    )


def _csv(rows) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="feedback.csv"'
    response.write("\ufeff")  # so that Excel reads the Chinese as UTF-8
    writer = csv.writer(response)
    writer.writerow(
        [
            "submitted_at",
            "survey",
            "kind",
            "customer_number",
            "case",
            "agent",
            "score",
            "gap",
            "reading",
            "exit_reason",
            "comment",
            "recovery_case",
        ]
    )
    for r in rows.select_related("survey", "customer", "case__owner", "recovery_case").order_by(
        "submitted_at", "pk"
    ):
        writer.writerow(
            [
                timezone.localtime(r.submitted_at).isoformat(),
                r.survey.name,
                r.kind,
                r.customer.number,
                r.case.reference if r.case else "",
                r.case.owner.username if r.case and r.case.owner else "",
                "" if r.score is None else r.score,
                "" if r.gap is None else f"{r.gap:.3f}",
                r.reading,
                r.exit_reason,
                r.comment,
                r.recovery_case.reference if r.recovery_case else "",
            ]
        )
    return response
