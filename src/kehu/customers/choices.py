"""The archive's fixed vocabularies, with the guidance the domain reference gives for each."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CustomerKind(models.TextChoices):
    INDIVIDUAL = "individual", _("Individual")
    ORGANISATION = "organisation", _("Organisation")


class CustomerStatus(models.TextChoices):
    PROSPECT = "prospect", _("Prospect")
    ACTIVE = "active", _("Active")
    LOST = "lost", _("Lost")


class LostReason(models.TextChoices):
    """Why customers stop coming (domain §5): 68% service, 14% quality, 9% price, 5% competitor, 3% moved."""

    POOR_SERVICE = "poor_service", _("Poor service")
    PRODUCT_QUALITY = "product_quality", _("Product quality")
    PRICE = "price", _("Price")
    COMPETITOR = "competitor", _("Ties with a competitor")
    MOVED = "moved", _("Moved away")
    OTHER = "other", _("Other")


class DecisionRole(models.TextChoices):
    """A contact's layer in the organisation's purchase decision (seed 002)."""

    OPERATIONAL = "operational", _("Operational layer (uses the product)")
    MANAGEMENT = "management", _("Management layer")
    DECISION = "decision", _("Decision layer")


class CommunicationStyle(models.TextChoices):
    UNKNOWN = "", _("Not yet known")
    EAGLE = "eagle", _("Eagle")
    PEACOCK = "peacock", _("Peacock")
    DOVE = "dove", _("Dove")
    OWL = "owl", _("Owl")


# How to deal with each style (seed 002): shown wherever the contact is shown.
STYLE_GUIDANCE = {
    CommunicationStyle.EAGLE: _(
        "Fast, decisive, task-centred. Wants efficiency, leadership, a competitive edge and "
        "control. Be brief, lead with results and options; decides in about 2 contacts."
    ),
    CommunicationStyle.PEACOCK: _(
        "Fast, decisive, people-centred. Wants recognition, relationships and simplicity. "
        "Show appreciation, keep it simple and lively; decides by feel, fast."
    ),
    CommunicationStyle.DOVE: _(
        "Friendly, calm, supportive. Wants trust, a personal relationship and cooperation. "
        "Be patient and sincere, build the relationship first; decides slowly."
    ),
    CommunicationStyle.OWL: _(
        "Reserved, slow, detail-driven. Wants to do the right thing, data and facts, no "
        "surprises. Bring evidence and details in writing; needs about 7 contacts."
    ),
}


class PhoneLabel(models.TextChoices):
    MOBILE = "mobile", _("Mobile")
    WORK = "work", _("Work")
    HOME = "home", _("Home")
    OTHER = "other", _("Other")


class NoteKind(models.TextChoices):
    NOTE = "note", _("Note")
    CALL = "call", _("Call")
    VISIT = "visit", _("Visit")
    EMAIL = "email", _("Email")


class ContactOutcome(models.TextChoices):
    """How a logged contact (call, visit, message) ended."""

    RESOLVED = "resolved", _("Resolved")
    FOLLOW_UP = "follow_up", _("Follow-up needed")
    INFORMED = "informed", _("Information given")
    NO_ANSWER = "no_answer", _("No answer")
    MESSAGE_LEFT = "message_left", _("Message left")
    WRONG_NUMBER = "wrong_number", _("Wrong number")


class ContactReason(models.TextChoices):
    """Why the customer got in touch, or why we did."""

    INQUIRY = "inquiry", _("Inquiry")
    ORDER = "order", _("Order or purchase")
    BILLING = "billing", _("Billing")
    SERVICE_REQUEST = "service_request", _("Service request")
    COMPLAINT = "complaint", _("Complaint")
    PRAISE = "praise", _("Praise")
    FOLLOW_UP = "follow_up", _("Follow-up or callback")
    OTHER = "other", _("Other")
