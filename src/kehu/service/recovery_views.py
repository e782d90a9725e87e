"""Pages for recovering a complaint and learning from it: goodwill within authority and its
approval, the analysis worksheet, root causes, improvement actions, attachments."""

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.customers.forms import apply_service_errors
from kehu.promises.forms import CommitmentForm
from kehu.service import selectors, services, worksheet
from kehu.service.forms import (
    AttachmentForm,
    AuthorityLimitForm,
    ImprovementActionEditForm,
    ImprovementActionForm,
    RemedyDecisionForm,
    RemedyForm,
    RootCauseForm,
    WorksheetForm,
)
from kehu.service.models import Case, CaseAttachment, ImprovementAction, Remedy
from kehu.users.permissions import require
from kehu.users.roles import Capability
from kehu.web import period_asked, redirect_back


def _errors_to_messages(request, error: ValidationError) -> None:
    messages.error(request, " ".join(error.messages))


def _form_errors(form) -> ValidationError:
    return ValidationError([e for errors in form.errors.values() for e in errors])


# --- Goodwill and approval --------------------------------------------------------------


@require(Capability.CASE_EDIT)
@require_POST
def remedy_request(request, pk: int):
    case = get_object_or_404(Case, pk=pk)
    form = RemedyForm(request.POST)
    try:
        if not form.is_valid():
            raise _form_errors(form)
        remedy = services.remedy_request(actor=request.user, case=case, **form.cleaned_data)
    except ValidationError as error:
        _errors_to_messages(request, error)
    else:
        if remedy.status == Remedy.Status.GRANTED:
            messages.success(request, _("Granted within your authority."))
        else:
            messages.warning(request, _("Above your authority: sent to a supervisor for approval."))
    return redirect("service:case", case.pk)


@require(Capability.REMEDY_APPROVE)
@require_POST
def remedy_decide(request, pk: int):
    remedy = get_object_or_404(Remedy, pk=pk)
    form = RemedyDecisionForm(request.POST)
    try:
        if not form.is_valid():
            raise _form_errors(form)
        services.remedy_decide(
            actor=request.user,
            remedy=remedy,
            approve=form.cleaned_data["decision"] == "approve",
            reason=form.cleaned_data["reason"],
        )
    except ValidationError as error:
        _errors_to_messages(request, error)
    else:
        messages.success(request, _("Decision recorded."))
    return redirect_back(request, f"/cases/{remedy.case_id}/")


@require(Capability.REMEDY_APPROVE)
def approvals(request):
    pending = list(selectors.remedies_pending()[:200])
    return render(
        request,
        "service/approvals.html",
        {
            "pending": [
                (remedy, selectors.money_display(remedy.amount, remedy.currency))
                for remedy in pending
            ],
        },
    )


@require(Capability.AUTHORITY_MANAGE)
def authority_limits(request):
    if request.method == "POST":
        form = AuthorityLimitForm(request.POST)
        try:
            if not form.is_valid():
                raise _form_errors(form)
            services.authority_limit_set(
                actor=request.user,
                role=request.POST.get("role", ""),
                max_amount=form.cleaned_data["max_amount"],
            )
        except ValidationError as error:
            _errors_to_messages(request, error)
        else:
            messages.success(request, _("Changes saved."))
        return redirect("service:authority")
    return render(request, "service/authority.html", {"limits": selectors.authority_limits()})


# --- The worksheet ----------------------------------------------------------------------


@require(Capability.CASE_VIEW)
def case_worksheet(request, pk: int):
    case = get_object_or_404(Case.objects.select_related("customer", "owner"), pk=pk)
    if case.kind != Case.Kind.COMPLAINT:
        raise Http404
    sheet = getattr(case, "worksheet", None)
    answers = sheet.answers if sheet else {}
    editable = request.user.can(Capability.CASE_EDIT) and case.status != Case.Status.CLOSED
    if request.method == "POST":
        if not editable:
            return render(request, "403.html", status=403)
        form = WorksheetForm(request.POST)
        if form.is_valid():
            try:
                services.worksheet_save(
                    actor=request.user,
                    case=case,
                    answers=form.answers(),
                    expected_version=form.cleaned_data["version"],
                    superior=form.cleaned_data["superior"],
                )
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(request, _("Worksheet saved."))
                return redirect("service:case", case.pk)
    else:
        form = WorksheetForm(initial={**answers, "version": case.version})
    return render(
        request,
        "service/worksheet.html",
        {
            "case": case,
            "sheet": sheet,
            "form": form,
            "editable": editable,
            "answers": worksheet.answer_labels(answers),
        },
    )


# --- Root causes and improvement actions ------------------------------------------------


@require(Capability.CASE_EDIT)
@require_POST
def case_root_cause(request, pk: int):
    case = get_object_or_404(Case, pk=pk)
    form = RootCauseForm(request.POST)
    try:
        if not form.is_valid():
            raise _form_errors(form)
        services.case_root_cause_set(
            actor=request.user,
            case=case,
            root_cause=form.cleaned_data["root_cause"],
            note=form.cleaned_data["root_cause_note"],
            expected_version=form.cleaned_data["version"],
        )
    except ValidationError as error:
        _errors_to_messages(request, error)
    else:
        messages.success(request, _("Changes saved."))
    return redirect("service:case", case.pk)


@require(Capability.CASE_VIEW)
def root_cause_ranking(request):
    start, end, first, last = period_asked(
        request, default_first=timezone.localdate() - timedelta(days=365)
    )
    ranks = selectors.root_cause_ranking(start=start, end=end)
    return render(
        request,
        "service/root_cause_ranking.html",
        {
            "ranks": [
                (rank, selectors.money_display(rank.given), selectors.money_display(rank.revenue))
                for rank in ranks
            ],
            "from": first.isoformat(),
            "to": last.isoformat(),
        },
    )


@require(Capability.CASE_VIEW)
def improvement_list(request):
    status = request.GET.get("status", "active")
    if status not in ("active", "", *ImprovementAction.Status.values):
        status = "active"
    return render(
        request,
        "service/improvements.html",
        {
            "actions": selectors.improvement_actions(status=status)[:500],
            "status": status,
            "statuses": ImprovementAction.Status.choices,
            "today": timezone.localdate(),
        },
    )


@require(Capability.CASE_EDIT)
def improvement_create(request):
    case = None
    if request.GET.get("case"):
        case = get_object_or_404(
            Case, pk=request.GET["case"] if request.GET["case"].isdigit() else 0
        )
    form = ImprovementActionForm(
        request.POST or None,
        initial={
            "owner": request.user.pk,
            "root_cause": case.root_cause_id if case else None,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            action = services.improvement_action_create(
                actor=request.user, cases=[case] if case else [], **form.cleaned_data
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("Improvement action added."))
            return redirect("service:improvement", action.pk)
    return render(request, "service/improvement_form.html", {"form": form, "case": case})


@require(Capability.CASE_VIEW)
def improvement_detail(request, pk: int):
    action = get_object_or_404(ImprovementAction.objects.select_related("owner"), pk=pk)
    editable = request.user.can(Capability.CASE_EDIT)
    if request.method == "POST":
        if not editable:
            return render(request, "403.html", status=403)
        form = ImprovementActionEditForm(request.POST)
        if form.is_valid():
            try:
                services.improvement_action_update(
                    actor=request.user, action=action, **form.cleaned_data
                )
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(request, _("Changes saved."))
                return redirect("service:improvement", action.pk)
    else:
        form = ImprovementActionEditForm(
            initial={
                "title": action.title,
                "description": action.description,
                "root_cause": action.root_cause_id,
                "owner": action.owner_id,
                "due_date": action.due_date,
                "status": action.status,
            }
        )
    return render(
        request,
        "service/improvement.html",
        {
            "action": action,
            "form": form,
            "editable": editable,
            "cases": action.cases.select_related("customer", "root_cause"),
        },
    )


@require(Capability.CASE_EDIT)
@require_POST
def improvement_link(request, pk: int):
    action = get_object_or_404(ImprovementAction, pk=pk)
    reference = request.POST.get("reference", "").strip()
    case = Case.objects.filter(reference=reference).first()
    try:
        if case is None:
            raise ValidationError(_("No case has the reference “%(ref)s”.") % {"ref": reference})
        services.improvement_action_link(actor=request.user, action=action, case=case)
    except ValidationError as error:
        _errors_to_messages(request, error)
    else:
        messages.success(request, _("Changes saved."))
    return redirect_back(request, f"/improvements/{action.pk}/")


# --- Attachments ------------------------------------------------------------------------


@require(Capability.CASE_EDIT)
@require_POST
def attachment_upload(request, pk: int):
    case = get_object_or_404(Case, pk=pk)
    form = AttachmentForm(request.POST, request.FILES)
    try:
        if not form.is_valid():
            raise _form_errors(form)
        services.attachment_add(actor=request.user, case=case, upload=form.cleaned_data["file"])
    except ValidationError as error:
        _errors_to_messages(request, error)
    else:
        messages.success(request, _("File attached."))
    return redirect("service:case", case.pk)


@require(Capability.CASE_VIEW)
def attachment_download(request, pk: int, attachment_pk: int):
    attachment = get_object_or_404(CaseAttachment, pk=attachment_pk, case_id=pk)
    # Always a download, never rendered in kehu's origin: an uploaded HTML or SVG file
    # must not run as a page of kehu.
    response = FileResponse(
        attachment.file.open("rb"), as_attachment=True, filename=attachment.name
    )
    response["Content-Type"] = "application/octet-stream"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def case_recovery_context(request, case: Case) -> dict:
    """What the case page shows of recovery and learning; empty parts cost no query."""
    remedies = selectors.case_remedies(case=case)
    limit = selectors.authority_limit(role=request.user.role)
    return {
        "remedies": [
            (remedy, selectors.money_display(remedy.amount, remedy.currency)) for remedy in remedies
        ],
        "remedy_form": RemedyForm(),
        "authority_limit": None if limit is None else selectors.money_display(limit),
        "root_cause_form": RootCauseForm(
            initial={
                "root_cause": case.root_cause_id,
                "root_cause_note": case.root_cause_note,
                "version": case.version,
            }
        ),
        "attachments": selectors.case_attachments(case=case),
        "attachment_form": AttachmentForm(),
        "improvements": list(case.improvement_actions.select_related("owner")),
        "is_complaint": case.kind == Case.Kind.COMPLAINT,
        "case_commitments": list(case.commitments.select_related("owner")),
        "commitment_form": CommitmentForm(),
        "worksheet_done": hasattr(case, "worksheet"),
    }
