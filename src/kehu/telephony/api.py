from datetime import datetime

from django.shortcuts import get_object_or_404
from ninja import Router, Schema

from kehu.customers.phones import phone_parse_or_none
from kehu.telephony import selectors
from kehu.telephony.models import BlockedNumber, Call, CallState, Direction
from kehu.users.permissions import check
from kehu.users.roles import Capability

router = Router(tags=["telephony"])



class CallOut(Schema):
    id: int
    call_id: str
    direction: Direction
    state: CallState
    number: str
    number_e164: str
    our_number: str
    queue: str
    agent: str | None
    customer_id: int | None
    customer_name: str | None
    contact_id: int | None
    match_count: int
    blocked: bool
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    duration_seconds: int | None
    cause: str
    logged_note_id: int | None

    @staticmethod
    def resolve_number(obj: Call):
        return obj.number_raw

    @staticmethod
    def resolve_agent(obj: Call):
        return obj.agent.username if obj.agent else None

    @staticmethod
    def resolve_customer_name(obj: Call):
        return obj.customer.name if obj.customer else None

    @staticmethod
    def resolve_logged_note_id(obj: Call):
        return obj.note_id


class CallPageOut(Schema):
    items: list[CallOut]
    page: int
    has_next: bool


class LookupMatchOut(Schema):
    customer_id: int
    customer_number: str
    customer_name: str
    salutation: str
    contact_id: int | None
    contact_name: str | None
    last_contact_at: datetime | None


class LookupOut(Schema):
    number_e164: str | None
    blocked: bool
    matches: list[LookupMatchOut]


@router.get("/calls", response=CallPageOut, summary="The call log, newest first")
def calls_list(request, direction: Direction | None = None, state: CallState | None = None,
               customer_id: int | None = None, page: int = 1):
    check(request, Capability.CALL_VIEW)
    page = max(page, 1)
    calls = list(selectors.call_log(direction=direction or "", state=state or "",
                                    customer_id=customer_id)[(page - 1) * 50 : page * 50 + 1])
    return {"items": calls[:50], "page": page, "has_next": len(calls) > 50}


@router.get("/calls/{int:call_id}", response=CallOut)
def call_read(request, call_id: int):
    check(request, Capability.CALL_VIEW)
    return get_object_or_404(selectors.call_log(), pk=call_id)


@router.get("/lookup", response=LookupOut, summary="Who has this number?")
def number_lookup(request, number: str):
    """The number in any written form; customers and contacts, most recent contact first."""
    check(request, Capability.CUSTOMER_VIEW)
    parsed = phone_parse_or_none(number)
    if parsed is None:
        return {"number_e164": None, "blocked": False, "matches": []}
    matches = selectors.caller_matches(e164=parsed.e164)
    return {
        "number_e164": parsed.e164,
        "blocked": BlockedNumber.objects.filter(e164=parsed.e164).exists(),
        "matches": [
            {"customer_id": m.customer.pk, "customer_number": m.customer.number,
             "customer_name": m.customer.name,
             "salutation": (m.contact.salutation if m.contact else m.customer.salutation),
             "contact_id": m.contact.pk if m.contact else None,
             "contact_name": m.contact.name if m.contact else None,
             "last_contact_at": m.last_contact_at}
            for m in matches
        ],
    }
