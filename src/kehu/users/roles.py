"""Roles and what each may do. One table, read by pages, the API and tests alike."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    AGENT = "agent", _("Agent")
    KEY_ACCOUNT_MANAGER = "key_account_manager", _("Key-account manager")
    SUPERVISOR = "supervisor", _("Supervisor")
    ANALYST = "analyst", _("Analyst")
    ADMIN = "admin", _("Administrator")


class Capability(models.TextChoices):
    CUSTOMER_VIEW = "customer.view", _("View customers")
    CUSTOMER_EDIT = "customer.edit", _("Create and edit customers")
    CUSTOMER_MERGE = "customer.merge", _("Merge duplicate customers")
    CUSTOMER_IMPORT = "customer.import", _("Import customers")
    CUSTOMER_EXPORT = "customer.export", _("Export customers")
    USER_MANAGE = "user.manage", _("Manage users")
    CALL_VIEW = "call.view", _("See the call log")
    CALL_HANDLE = "call.handle", _("Take and log calls")
    TELEPHONY_MANAGE = "telephony.manage", _("Manage telephony integrations and blocked numbers")
    SERVICE_CONFIGURE = "service.configure", _("Configure business calendars and service levels")
    CASE_VIEW = "case.view", _("See service cases")
    CASE_EDIT = "case.edit", _("Open and work on service cases")
    REMEDY_APPROVE = "remedy.approve", _("Approve goodwill and compensation above a limit")
    AUTHORITY_MANAGE = "authority.manage", _("Set the goodwill and compensation limits")
    FOLLOW_UP_WORK = "follow_up.work", _("Make promises and do follow-ups")
    FOLLOW_UP_MANAGE = "follow_up.manage", _("Change anyone's promises and follow-ups")
    SERVICE_REPORTS_VIEW = "service.reports", _("See service reports")
    WEBHOOK_MANAGE = "webhook.manage", _("Manage outbound webhooks")
    SURVEY_MANAGE = "survey.manage", _("Create and send surveys")
    SERVICE_SETTINGS_EDIT = "service.settings", _("Change service settings")
    SALES_RECORD = "sales.record", _("Record purchases and refunds")
    LOYALTY_WORK = "loyalty.work", _("Enrol members and redeem their points")
    LOYALTY_MANAGE = "loyalty.manage", _("Run the loyalty programme: tiers, rewards, offers, adjustments")
    INSIGHTS_VIEW = "insights.view", _("See customer value analytics and the churn-risk list")
    INSIGHTS_REFRESH = "insights.refresh", _("Recompute every customer's value scores")


_ALL = frozenset(Role)
CAPABILITY_ROLES: dict[Capability, frozenset[Role]] = {
    Capability.CUSTOMER_VIEW: _ALL,
    Capability.CUSTOMER_EDIT: frozenset(
        {Role.AGENT, Role.KEY_ACCOUNT_MANAGER, Role.SUPERVISOR, Role.ADMIN}
    ),
    Capability.CUSTOMER_MERGE: frozenset({Role.SUPERVISOR, Role.ADMIN}),
    Capability.CUSTOMER_IMPORT: frozenset({Role.SUPERVISOR, Role.ADMIN}),
    Capability.CUSTOMER_EXPORT: frozenset({Role.SUPERVISOR, Role.ANALYST, Role.ADMIN}),
    Capability.USER_MANAGE: frozenset({Role.ADMIN}),
    Capability.CALL_VIEW: _ALL,
    Capability.CALL_HANDLE: frozenset(
        {Role.AGENT, Role.KEY_ACCOUNT_MANAGER, Role.SUPERVISOR, Role.ADMIN}
    ),
    Capability.TELEPHONY_MANAGE: frozenset({Role.SUPERVISOR, Role.ADMIN}),
    Capability.SERVICE_CONFIGURE: frozenset({Role.SUPERVISOR, Role.ADMIN}),
    Capability.CASE_VIEW: _ALL,
    Capability.CASE_EDIT: frozenset(
        {Role.AGENT, Role.KEY_ACCOUNT_MANAGER, Role.SUPERVISOR, Role.ADMIN}
    ),
    Capability.REMEDY_APPROVE: frozenset({Role.SUPERVISOR, Role.ADMIN}),
    Capability.AUTHORITY_MANAGE: frozenset({Role.ADMIN}),
    Capability.FOLLOW_UP_WORK: frozenset(
        {Role.AGENT, Role.KEY_ACCOUNT_MANAGER, Role.SUPERVISOR, Role.ADMIN}
    ),
    Capability.FOLLOW_UP_MANAGE: frozenset({Role.SUPERVISOR, Role.ADMIN}),
    Capability.SERVICE_REPORTS_VIEW: frozenset({Role.SUPERVISOR, Role.ANALYST, Role.ADMIN}),
    Capability.WEBHOOK_MANAGE: frozenset({Role.ADMIN}),
    Capability.SURVEY_MANAGE: frozenset({Role.SUPERVISOR, Role.ADMIN}),
    Capability.SERVICE_SETTINGS_EDIT: frozenset({Role.ADMIN}),
    Capability.SALES_RECORD: frozenset({Role.SUPERVISOR, Role.ADMIN}),
    Capability.LOYALTY_WORK: frozenset(
        {Role.AGENT, Role.KEY_ACCOUNT_MANAGER, Role.SUPERVISOR, Role.ADMIN}
    ),
    Capability.LOYALTY_MANAGE: frozenset({Role.SUPERVISOR, Role.ADMIN}),
    Capability.INSIGHTS_VIEW: frozenset({Role.SUPERVISOR, Role.ANALYST, Role.ADMIN}),
    Capability.INSIGHTS_REFRESH: frozenset({Role.ANALYST, Role.ADMIN}),
}


def role_can(role: str, capability: Capability) -> bool:
    return role in CAPABILITY_ROLES[capability]
