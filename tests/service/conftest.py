"""Fixtures of the case tests: a real calendar, a policy, a customer."""

from .cases_fixtures import calendar, customer, policy  # noqa: F401
