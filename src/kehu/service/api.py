"""Service cases over the REST API: list, read, open, move, annotate, assign; goodwill and
its approval, the analysis worksheet, root causes and improvement actions."""

from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from kehu.api.common import ErrorOut, active_user, write_or_conflict
from kehu.customers.models import Contact, Customer
from kehu.service import selectors, services
from kehu.service.models import (
    SUBJECT_MAX,
    TEXT_MAX,
    Case,
    CaseEvent,
    CaseNote,
    ComplaintCategory,
    ImprovementAction,
    Remedy,
    RootCause,
)
from kehu.users.permissions import check
from kehu.users.roles import Capability

router = Router(tags=["cases"])
PAGE_SIZE = 25


class CaseOut(Schema):
    id: int
    reference: str
    kind: Case.Kind
    channel: Case.Channel
    category: str | None = Field(None, description="Complaint category code")
    priority: Case.Priority
    customer_id: int
    contact_id: int | None
    subject: str
    description: str
    owner: str | None = Field(None, description="Owner's username")
    team: str
    status: Case.Status
    version: int = Field(..., description="Send it back with every change: a stale one is 409")
    created_at: datetime
    updated_at: datetime
    first_response_due_at: datetime | None
    resolution_due_at: datetime | None
    first_responded_at: datetime | None
    resolved_at: datetime | None
    sla_paused: bool
    first_response_breached_at: datetime | None
    resolution_breached_at: datetime | None
    warned_at: datetime | None
    sla_state: str = Field(..., description="on_track, warning or breached")
    root_cause: str | None = Field(None, description="Root cause code, complaints only")
    root_cause_note: str

    @staticmethod
    def resolve_category(obj: Case):
        return obj.category.code if obj.category_id else None

    @staticmethod
    def resolve_root_cause(obj: Case):
        return obj.root_cause.code if obj.root_cause_id else None

    @staticmethod
    def resolve_owner(obj: Case):
        return obj.owner.username if obj.owner_id else None

    @staticmethod
    def resolve_sla_paused(obj: Case):
        return obj.sla_paused_at is not None

    @staticmethod
    def resolve_sla_state(obj: Case):
        return selectors.case_sla_state(obj)


class CasePageOut(Schema):
    items: list[CaseOut]
    page: int
    has_next: bool


class CaseIn(Schema):
    customer_id: int
    contact_id: int | None = None
    kind: Case.Kind
    channel: Case.Channel
    category: str | None = Field(None, description="Complaint category code, complaints only")
    priority: Case.Priority = Case.Priority.NORMAL
    subject: str = Field(..., max_length=SUBJECT_MAX)
    description: str = Field("", max_length=TEXT_MAX)
    owner: str | None = Field(None, description="Username; default: the caller")
    team: str = Field("", max_length=100)


class TransitionIn(Schema):
    to: Case.Status
    version: int
    root_cause: str | None = Field(
        None, description="Root cause code; a complaint is resolved only with one recorded"
    )
    root_cause_note: str = Field("", max_length=500)


class NoteIn(Schema):
    kind: CaseNote.Kind = CaseNote.Kind.INTERNAL
    body: str = Field(..., max_length=TEXT_MAX)
    version: int


class NoteOut(Schema):
    id: int
    kind: CaseNote.Kind
    body: str
    author: str | None
    sent_to: str
    created_at: datetime

    @staticmethod
    def resolve_author(obj: CaseNote):
        return obj.author.username if obj.author_id else None


class EventOut(Schema):
    at: datetime
    actor: str | None
    kind: CaseEvent.Kind
    from_value: str
    to_value: str

    @staticmethod
    def resolve_actor(obj: CaseEvent):
        return obj.actor.username if obj.actor_id else None


class AssignIn(Schema):
    owner: str | None = Field(None, description="Username, or null for nobody")
    team: str = Field("", max_length=100)
    version: int


def _case(pk: int) -> Case:
    return get_object_or_404(Case.objects.select_related("owner", "category", "root_cause"), pk=pk)


def _root_cause(code: str | None) -> RootCause | None:
    if not code:
        return None
    cause = RootCause.objects.filter(code=code, is_active=True).first()
    if cause is None:
        raise ValidationError({"root_cause": [_("No such root cause.")]})
    return cause


@router.get("/cases", response=CasePageOut, summary="List cases")
def cases_list(request, status: str = "open", mine: bool = False, sla: str = "", page: int = 1):
    """`status`: open (default), all, or one status; `sla`: on_track, warning or breached."""
    check(request, Capability.CASE_VIEW)
    page = max(page, 1)
    cases = selectors.case_list(
        status="" if status == "all" else status,
        owner=request.user if mine else None,
        sla_state=sla,
    )
    rows = list(cases[(page - 1) * PAGE_SIZE : page * PAGE_SIZE + 1])
    return {"items": rows[:PAGE_SIZE], "page": page, "has_next": len(rows) > PAGE_SIZE}


@router.get("/cases/{int:case_id}", response=CaseOut)
def case_read(request, case_id: int):
    check(request, Capability.CASE_VIEW)
    return _case(case_id)


@router.post("/cases", response={201: CaseOut})
def case_create(request, payload: CaseIn):
    check(request, Capability.CASE_EDIT)
    errors = {}
    customer = Customer.objects.filter(pk=payload.customer_id).first()
    if customer is None:
        errors["customer_id"] = [_("No such customer.")]
    contact = None
    if payload.contact_id is not None:
        contact = Contact.objects.filter(pk=payload.contact_id).first()
        if contact is None:
            errors["contact_id"] = [_("No such contact.")]
    category = None
    if payload.category:
        category = ComplaintCategory.objects.filter(code=payload.category).first()
        if category is None:
            errors["category"] = [_("No such complaint category.")]
    if errors:
        raise ValidationError(errors)
    case = services.case_create(
        actor=request.user,
        customer=customer,
        contact=contact,
        category=category,
        kind=payload.kind,
        channel=payload.channel,
        priority=payload.priority,
        subject=payload.subject,
        description=payload.description,
        owner=active_user(payload.owner),
        team=payload.team,
    )
    return Status(201, _case(case.pk))


@router.post(
    "/cases/{int:case_id}/transitions",
    response={200: CaseOut, 409: ErrorOut},
    summary="Move a case to another status",
)
def case_transition(request, case_id: int, payload: TransitionIn):
    check(request, Capability.CASE_EDIT)
    case = _case(case_id)
    return write_or_conflict(
        lambda: _case(
            services.case_transition(
                actor=request.user,
                case=case,
                to=payload.to,
                expected_version=payload.version,
                root_cause=_root_cause(payload.root_cause),
                root_cause_note=payload.root_cause_note,
            ).pk
        )
    )


@router.get("/cases/{int:case_id}/notes", response=list[NoteOut])
def case_notes(request, case_id: int):
    check(request, Capability.CASE_VIEW)
    return selectors.case_notes(case=_case(case_id))


@router.post(
    "/cases/{int:case_id}/notes",
    response={201: NoteOut, 409: ErrorOut},
    summary="Add an internal note or a reply emailed to the customer",
)
def case_note_add(request, case_id: int, payload: NoteIn):
    check(request, Capability.CASE_EDIT)
    case = _case(case_id)
    return write_or_conflict(
        lambda: Status(
            201,
            services.case_note_add(
                actor=request.user,
                case=case,
                kind=payload.kind,
                body=payload.body,
                expected_version=payload.version,
            ),
        )
    )


@router.get("/cases/{int:case_id}/events", response=list[EventOut], summary="A case's history")
def case_events(request, case_id: int):
    check(request, Capability.CASE_VIEW)
    return selectors.case_history(case=_case(case_id))


@router.post("/cases/{int:case_id}/assignment", response={200: CaseOut, 409: ErrorOut})
def case_assign(request, case_id: int, payload: AssignIn):
    check(request, Capability.CASE_EDIT)
    case = _case(case_id)
    owner = active_user(payload.owner)
    return write_or_conflict(
        lambda: _case(
            services.case_assign(
                actor=request.user,
                case=case,
                owner=owner,
                team=payload.team,
                expected_version=payload.version,
            ).pk
        )
    )


# --- Goodwill and approval --------------------------------------------------------------


class RemedyIn(Schema):
    kind: Remedy.Kind
    amount: Decimal = Field(..., gt=0, max_digits=12, decimal_places=2)
    description: str = Field(..., max_length=500)


class RemedyOut(Schema):
    id: int
    case_id: int
    kind: Remedy.Kind
    amount: Decimal
    currency: str
    description: str
    status: Remedy.Status = Field(
        ..., description="granted (within the giver's authority), pending, approved, rejected"
    )
    requested_by: str | None
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_reason: str

    @staticmethod
    def resolve_requested_by(obj: Remedy):
        return obj.requested_by.username if obj.requested_by_id else None

    @staticmethod
    def resolve_decided_by(obj: Remedy):
        return obj.decided_by.username if obj.decided_by_id else None


class DecisionIn(Schema):
    approve: bool
    reason: str = Field(..., max_length=1000)


@router.get("/cases/{int:case_id}/remedies", response=list[RemedyOut], tags=["approvals"])
def case_remedies(request, case_id: int):
    check(request, Capability.CASE_VIEW)
    return selectors.case_remedies(case=_case(case_id))


@router.post(
    "/cases/{int:case_id}/remedies",
    response={201: RemedyOut},
    summary="Give goodwill or compensation",
    tags=["approvals"],
)
def case_remedy_request(request, case_id: int, payload: RemedyIn):
    """Granted at once within the caller's authority limit per case; otherwise `pending`
    until a supervisor decides."""
    check(request, Capability.CASE_EDIT)
    return Status(
        201,
        services.remedy_request(
            actor=request.user,
            case=_case(case_id),
            kind=payload.kind,
            amount=payload.amount,
            description=payload.description,
        ),
    )


@router.get(
    "/approvals",
    response=list[RemedyOut],
    summary="Requests waiting for approval",
    tags=["approvals"],
)
def approvals_pending(request):
    check(request, Capability.REMEDY_APPROVE)
    return list(selectors.remedies_pending()[:200])


@router.post(
    "/approvals/{int:remedy_id}/decision",
    response=RemedyOut,
    summary="Approve or reject, with a reason",
    tags=["approvals"],
)
def approval_decide(request, remedy_id: int, payload: DecisionIn):
    check(request, Capability.REMEDY_APPROVE)
    remedy = get_object_or_404(Remedy, pk=remedy_id)
    return services.remedy_decide(
        actor=request.user, remedy=remedy, approve=payload.approve, reason=payload.reason
    )


# --- The worksheet ----------------------------------------------------------------------


class WorksheetOut(Schema):
    answers: dict = Field(..., description="Question key → answer code(s) or text")
    updated_by: str | None = None
    updated_at: datetime | None = None


class WorksheetIn(Schema):
    answers: dict
    version: int
    superior: str | None = Field(
        None, description="Username of the supervisor to hand the case to (position=superior)"
    )


def _worksheet_out(case: Case) -> dict:
    sheet = getattr(case, "worksheet", None)
    if sheet is None:
        return {"answers": {}}
    return {
        "answers": sheet.answers,
        "updated_by": sheet.updated_by.username if sheet.updated_by_id else None,
        "updated_at": sheet.updated_at,
    }


@router.get("/cases/{int:case_id}/worksheet", response=WorksheetOut, tags=["cases"])
def case_worksheet(request, case_id: int):
    check(request, Capability.CASE_VIEW)
    return _worksheet_out(_case(case_id))


@router.put(
    "/cases/{int:case_id}/worksheet",
    response={200: WorksheetOut, 409: ErrorOut},
    summary="Save the complaint analysis worksheet",
    tags=["cases"],
)
def case_worksheet_save(request, case_id: int, payload: WorksheetIn):
    check(request, Capability.CASE_EDIT)
    case = _case(case_id)
    superior = active_user(payload.superior) if payload.superior else None

    def write():
        services.worksheet_save(
            actor=request.user,
            case=case,
            answers=payload.answers,
            expected_version=payload.version,
            superior=superior,
        )
        return _worksheet_out(_case(case_id))

    return write_or_conflict(write)


# --- Root causes and improvement actions ------------------------------------------------


class RootCauseOut(Schema):
    code: str
    name: str
    is_active: bool


class ImprovementActionIn(Schema):
    title: str = Field(..., max_length=SUBJECT_MAX)
    description: str = Field("", max_length=TEXT_MAX)
    root_cause: str | None = None
    owner: str
    due_date: date
    cases: list[str] = Field([], description="References of the complaints it answers")


class ImprovementActionOut(Schema):
    id: int
    title: str
    description: str
    root_cause: str | None
    owner: str
    due_date: date
    status: ImprovementAction.Status
    cases: list[str]
    created_at: datetime
    completed_at: datetime | None

    @staticmethod
    def resolve_root_cause(obj: ImprovementAction):
        return obj.root_cause.code if obj.root_cause_id else None

    @staticmethod
    def resolve_owner(obj: ImprovementAction):
        return obj.owner.username

    @staticmethod
    def resolve_cases(obj: ImprovementAction):
        return [case.reference for case in obj.cases.all()]


class LinkIn(Schema):
    reference: str


@router.get("/root-causes", response=list[RootCauseOut], tags=["improvement"])
def root_causes(request):
    check(request, Capability.CASE_VIEW)
    return RootCause.objects.all()


@router.get("/improvement-actions", response=list[ImprovementActionOut], tags=["improvement"])
def improvement_actions(request, status: str = "active"):
    """`status`: active (open or in progress, default), one status, or empty for all."""
    check(request, Capability.CASE_VIEW)
    return list(selectors.improvement_actions(status=status).prefetch_related("cases")[:500])


def _cases_by_reference(references: list[str]) -> list[Case]:
    found = {case.reference: case for case in Case.objects.filter(reference__in=references)}
    missing = [ref for ref in references if ref not in found]
    if missing:
        raise ValidationError(
            {"cases": [_("No case has the reference “%(ref)s”.") % {"ref": ref} for ref in missing]}
        )
    return [found[ref] for ref in references]


@router.post("/improvement-actions", response={201: ImprovementActionOut}, tags=["improvement"])
def improvement_action_create(request, payload: ImprovementActionIn):
    check(request, Capability.CASE_EDIT)
    owner = active_user(payload.owner)
    action = services.improvement_action_create(
        actor=request.user,
        title=payload.title,
        description=payload.description,
        root_cause=_root_cause(payload.root_cause),
        owner=owner,
        due_date=payload.due_date,
        cases=_cases_by_reference(payload.cases),
    )
    return Status(201, action)


@router.post(
    "/improvement-actions/{int:action_id}/cases",
    response=ImprovementActionOut,
    summary="Link a complaint to an improvement action",
    tags=["improvement"],
)
def improvement_action_link(request, action_id: int, payload: LinkIn):
    check(request, Capability.CASE_EDIT)
    action = get_object_or_404(ImprovementAction, pk=action_id)
    (case,) = _cases_by_reference([payload.reference])
    services.improvement_action_link(actor=request.user, action=action, case=case)
    return action
