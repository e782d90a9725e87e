"""Service cases over the REST API: list, read, open, move, annotate, assign."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from kehu.customers.models import Contact, Customer
from kehu.service import selectors, services
from kehu.service.models import SUBJECT_MAX, TEXT_MAX, Case, CaseEvent, CaseNote, ComplaintCategory
from kehu.users.models import User
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

    @staticmethod
    def resolve_category(obj: Case):
        return obj.category.code if obj.category_id else None

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


class ErrorOut(Schema):
    detail: str


def _case(pk: int) -> Case:
    return get_object_or_404(Case.objects.select_related("owner", "category"), pk=pk)


def _user(username: str | None) -> User | None:
    if not username:
        return None
    user = User.objects.filter(username=username, is_active=True).first()
    if user is None:
        raise ValidationError({"owner": [_("No active user “%(name)s”.") % {"name": username}]})
    return user


def _write(write):
    """Runs a service write; a stale version is a conflict (409), other refusals 422."""
    try:
        return write()
    except ValidationError as error:
        if getattr(error, "code", None) == "stale":
            return Status(409, {"detail": error.messages[0]})
        raise


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
        owner=_user(payload.owner),
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
    return _write(
        lambda: _case(
            services.case_transition(
                actor=request.user, case=case, to=payload.to, expected_version=payload.version
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
    return _write(
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
    owner = _user(payload.owner)
    return _write(
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
