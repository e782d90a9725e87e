from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from kehu.customers import selectors, services
from kehu.customers.choices import (
    CommunicationStyle,
    CustomerKind,
    CustomerStatus,
    DecisionRole,
    LostReason,
)
from kehu.customers.models import Contact, Customer
from kehu.users.models import User
from kehu.users.permissions import check
from kehu.users.roles import Capability

router = Router(tags=["customers"])



class PhoneOut(Schema):
    e164: str
    extension: str
    display: str


class ContactOut(Schema):
    id: int
    organisation_id: int
    name: str
    salutation: str
    title: str
    decision_role: DecisionRole
    style: CommunicationStyle
    style_guidance: str
    notes: str
    external_id: str | None
    phones: list[PhoneOut]
    emails: list[str]

    @staticmethod
    def resolve_phones(obj: Contact):
        return list(obj.phones.all())

    @staticmethod
    def resolve_emails(obj: Contact):
        return [e.address for e in obj.emails.all()]

    @staticmethod
    def resolve_style_guidance(obj: Contact):
        return str(obj.style_guidance)


class CustomerOut(Schema):
    id: int
    number: str
    kind: CustomerKind
    name: str
    salutation: str
    birthday: date | None
    industry: str
    status: CustomerStatus
    lost_reason: LostReason | None
    # When the customer was marked lost; none for customers imported as lost.
    lost_at: datetime | None
    owner: str | None
    preferences: str
    usual: str
    needs: str
    external_id: str | None
    merged_into: str | None
    tags: list[str]
    phones: list[PhoneOut]
    emails: list[str]
    addresses: list[str]

    @staticmethod
    def resolve_lost_reason(obj: Customer):
        return obj.lost_reason or None

    @staticmethod
    def resolve_owner(obj: Customer):
        return obj.owner.username if obj.owner else None

    @staticmethod
    def resolve_merged_into(obj: Customer):
        return obj.merged_into.number if obj.merged_into else None

    @staticmethod
    def resolve_tags(obj: Customer):
        return [t.name for t in obj.tags.all()]

    @staticmethod
    def resolve_phones(obj: Customer):
        return [p for p in obj.phones.all() if p.contact_id is None]

    @staticmethod
    def resolve_emails(obj: Customer):
        return [e.address for e in obj.emails.all() if e.contact_id is None]

    @staticmethod
    def resolve_addresses(obj: Customer):
        return [a.text for a in obj.addresses.all()]


class CustomerDetailOut(CustomerOut):
    contacts: list[ContactOut]

    @staticmethod
    def resolve_contacts(obj: Customer):
        return list(obj.contacts.all())


class SearchHitOut(Schema):
    customer: CustomerOut
    contact_id: int | None
    contact_name: str | None
    matched_by: str


class SearchPageOut(Schema):
    items: list[SearchHitOut]
    page: int
    has_next: bool


class CustomerIn(Schema):
    kind: CustomerKind
    name: str = Field(max_length=200)
    salutation: str = ""
    birthday: date | None = None
    industry: str = ""
    status: CustomerStatus = CustomerStatus.ACTIVE
    lost_reason: LostReason | None = None
    owner: str | None = Field(None, description="username of the account manager")
    preferences: str = ""
    usual: str = ""
    needs: str = ""
    external_id: str | None = None
    tags: list[str] = []
    phones: list[str] = Field([], description="any written form; stored as E.164")
    emails: list[str] = []
    addresses: list[str] = []


class CustomerPatch(Schema):
    kind: CustomerKind | None = None
    name: str | None = Field(None, max_length=200)
    salutation: str | None = None
    birthday: date | None = None
    industry: str | None = None
    status: CustomerStatus | None = None
    lost_reason: LostReason | None = None
    owner: str | None = None
    preferences: str | None = None
    usual: str | None = None
    needs: str | None = None
    external_id: str | None = None
    tags: list[str] | None = None
    phones: list[str] | None = None
    emails: list[str] | None = None
    addresses: list[str] | None = None


class ContactIn(Schema):
    name: str = Field(max_length=100)
    salutation: str = ""
    title: str = ""
    decision_role: DecisionRole = DecisionRole.OPERATIONAL
    style: CommunicationStyle = CommunicationStyle.UNKNOWN
    notes: str = ""
    external_id: str | None = None
    phones: list[str] = []
    emails: list[str] = []


class ContactPatch(Schema):
    name: str | None = Field(None, max_length=100)
    salutation: str | None = None
    title: str | None = None
    decision_role: DecisionRole | None = None
    style: CommunicationStyle | None = None
    notes: str | None = None
    external_id: str | None = None
    phones: list[str] | None = None
    emails: list[str] | None = None


def _fields(payload: Schema, *, partial: bool) -> dict:
    data = payload.dict(exclude_unset=partial)
    if "owner" in data:
        owner = data.pop("owner")
        data["owner"] = User.objects.filter(username=owner, is_active=True).first()
        if owner and data["owner"] is None:
            # A bad value in the body is the client's input error (422), not a missing URL.
            raise ValidationError({"owner": [_("No active user “%(name)s”.") % {"name": owner}]})
    if "lost_reason" in data:
        data["lost_reason"] = data["lost_reason"] or ""
    return data


def _customer(pk: int) -> Customer:
    return get_object_or_404(
        Customer.objects.select_related("owner", "merged_into").prefetch_related(
            "phones", "emails", "addresses", "tags",
            "contacts__phones", "contacts__emails",
        ),
        pk=pk,
    )


@router.get("/customers", response=SearchPageOut, summary="List or search customers")
def customers_list(request, q: str = "", page: int = 1):
    """`q` finds by name (Chinese substring), organisation, phone in any form, email or number."""
    check(request, Capability.CUSTOMER_VIEW)
    result = selectors.customer_search(query=q, page=page)
    ids = [h.customer.pk for h in result.hits]
    full = Customer.objects.select_related("owner", "merged_into").prefetch_related(
        "phones", "emails", "addresses", "tags"
    ).in_bulk(ids)
    return {
        "items": [
            {"customer": full[h.customer.pk], "contact_id": h.contact.pk if h.contact else None,
             "contact_name": h.contact.name if h.contact else None, "matched_by": h.matched_by}
            for h in result.hits
        ],
        "page": result.page,
        "has_next": result.has_next,
    }


@router.get("/customers/{int:customer_id}", response=CustomerDetailOut)
def customer_read(request, customer_id: int):
    check(request, Capability.CUSTOMER_VIEW)
    return _customer(customer_id)


@router.post("/customers", response={201: CustomerDetailOut})
def customer_create(request, payload: CustomerIn):
    check(request, Capability.CUSTOMER_EDIT)
    customer = services.customer_create(actor=request.user, **_fields(payload, partial=False))
    return Status(201, _customer(customer.pk))


@router.patch("/customers/{int:customer_id}", response=CustomerDetailOut)
def customer_update(request, customer_id: int, payload: CustomerPatch):
    check(request, Capability.CUSTOMER_EDIT)
    customer = get_object_or_404(Customer, pk=customer_id)
    services.customer_update(actor=request.user, customer=customer,
                             **_fields(payload, partial=True))
    return _customer(customer_id)


@router.get("/customers/{int:customer_id}/contacts", response=list[ContactOut])
def contacts_list(request, customer_id: int):
    check(request, Capability.CUSTOMER_VIEW)
    return list(_customer(customer_id).contacts.all())


@router.post("/customers/{int:customer_id}/contacts", response={201: ContactOut})
def contact_create(request, customer_id: int, payload: ContactIn):
    check(request, Capability.CUSTOMER_EDIT)
    organisation = get_object_or_404(Customer, pk=customer_id)
    contact = services.contact_create(
        actor=request.user, organisation=organisation, **payload.dict()
    )
    return Status(201, contact)


@router.get("/contacts/{int:contact_id}", response=ContactOut)
def contact_read(request, contact_id: int):
    check(request, Capability.CUSTOMER_VIEW)
    return get_object_or_404(Contact.objects.prefetch_related("phones", "emails"), pk=contact_id)


@router.patch("/contacts/{int:contact_id}", response=ContactOut)
def contact_update(request, contact_id: int, payload: ContactPatch):
    check(request, Capability.CUSTOMER_EDIT)
    contact = get_object_or_404(Contact, pk=contact_id)
    return services.contact_update(
        actor=request.user, contact=contact, **payload.dict(exclude_unset=True)
    )
