"""Shared fixtures: one user per role (so every test can name the user who must be refused),
and `--clock-ahead`, which runs the whole suite with the clock moved."""

import os
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from kehu.users.roles import Role
from kehu.users.services import api_token_create, user_create

PASSWORD = "correct-horse-battery-staple"


def pytest_addoption(parser):
    parser.addoption(
        "--clock-ahead",
        type=float,
        default=0,
        metavar="DAYS",
        help="Run every test with the clock this many days ahead of today (negative: behind; "
        "fractions move the time of day). The clock keeps ticking from there.",
    )


def pytest_configure(config):
    """Moves the clock of the whole process, live server threads included, before any test
    module is imported: a test that passes only on the day it was written fails here."""
    days = config.getoption("--clock-ahead")
    if days:
        traveller = time_machine.travel(datetime.now(UTC) + timedelta(days=days), tick=True)
        traveller.start()
        config.add_cleanup(traveller.stop)


def pytest_report_header(config):
    days = config.getoption("--clock-ahead")
    if days:
        return f"clock moved {days:g} days: tests run from {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    return None


@pytest.fixture(autouse=True)
def _test_settings(settings):
    """English messages unless a test switches language; static files without a manifest."""
    settings.LANGUAGE_CODE = "en"
    settings.STORAGES = settings.STORAGES | {
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    }
    # A deliberately weak hasher: each user would otherwise cost ~0.3 s of PBKDF2.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _user(role: Role, username: str):
    return user_create(username=username, password=PASSWORD, role=role, first_name=username)


@pytest.fixture
def agent(db):
    return _user(Role.AGENT, "agent")


@pytest.fixture
def manager(db):
    return _user(Role.KEY_ACCOUNT_MANAGER, "manager")


@pytest.fixture
def supervisor(db):
    return _user(Role.SUPERVISOR, "supervisor")


@pytest.fixture
def analyst(db):
    return _user(Role.ANALYST, "analyst")


@pytest.fixture
def admin_user(db):
    return _user(Role.ADMIN, "admin")


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def agent_client(agent):
    return logged_in(agent)


@pytest.fixture
def supervisor_client(supervisor):
    return logged_in(supervisor)


@pytest.fixture
def analyst_client(analyst):
    return logged_in(analyst)


@pytest.fixture
def admin_client(admin_user):
    return logged_in(admin_user)


def bearer(user) -> dict:
    _token, raw = api_token_create(user=user, name="test")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def require_or_skip(condition: bool, *, what: str, variable: str) -> None:
    """Skips when a real dependency is missing, or fails when CI says it must be there."""
    if condition:
        return
    if os.environ.get(variable) == "1":
        pytest.fail(f"{what} is required here ({variable}=1) but missing")
    pytest.skip(f"{what} is missing")


@pytest.fixture
def xihu(agent):
    """An organisation with a switchboard number and a decision-maker with her own mobile."""
    from kehu.customers import services as customer_services

    org = customer_services.customer_create(
        actor=agent,
        kind="organisation",
        name="杭州西湖茶业有限公司",
        salutation="西湖茶业",
        usual="明前龙井 250g 礼盒",
        phones=["010 6552 9988"],
    )
    customer_services.contact_create(
        actor=agent,
        organisation=org,
        name="王建国",
        salutation="王总",
        title="采购总监",
        decision_role="decision",
        style="eagle",
        phones=["139 1000 2000"],
    )
    return org


@pytest.fixture
def local_morning(monkeypatch):
    """Ten in the morning today, local time (Asia/Shanghai), for tests of "my day" with
    things due in a few hours: from about 13:00 to 16:00 UTC those are already tomorrow
    there, and not on today's list."""
    from django.utils import timezone

    ten = timezone.localtime().replace(hour=10, minute=0, second=0, microsecond=0)
    monkeypatch.setattr(timezone, "now", lambda: ten)
    return ten
