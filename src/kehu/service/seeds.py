"""What a new kehu starts with: root causes and authority limits. Used by the data
migration, and by tests whose database was emptied after the migrations ran."""

from decimal import Decimal

from django.utils.translation import gettext_noop

# Names stay in English in the database and are translated when shown.
ROOT_CAUSES = [
    ("product", gettext_noop("Product defect")),
    ("attitude", gettext_noop("Staff attitude")),
    ("process", gettext_noop("Process or rule")),
    ("promise", gettext_noop("Promise not kept")),
    ("communication", gettext_noop("Miscommunication")),
    ("delivery", gettext_noop("Delivery or installation")),
    ("price", gettext_noop("Price or offer policy")),
    ("misunderstanding", gettext_noop("Customer misunderstanding")),
    ("other", gettext_noop("Other")),
]
# Per case, in KEHU_CURRENCY; None means no limit. Analysts grant nothing.
AUTHORITY_LIMITS = {
    "agent": Decimal("200"),
    "key_account_manager": Decimal("1000"),
    "supervisor": Decimal("5000"),
    "analyst": Decimal("0"),
    "admin": None,
}


def seed(*, root_cause_model, authority_limit_model) -> None:
    """Adds what is missing and changes nothing an admin has set."""
    for position, (code, name) in enumerate(ROOT_CAUSES):
        root_cause_model.objects.get_or_create(
            code=code, defaults={"name": name, "position": position * 10}
        )
    for role, amount in AUTHORITY_LIMITS.items():
        authority_limit_model.objects.get_or_create(role=role, defaults={"max_amount": amount})
