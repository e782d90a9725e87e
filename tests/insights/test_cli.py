"""`kehu analyze refresh` and the nightly job."""

import pytest
from typer.testing import CliRunner

from kehu.cli import app
from kehu.insights.models import CustomerValue, ValueRefresh
from kehu.insights.tasks import value_refresh_nightly

pytestmark = pytest.mark.django_db


def test_refresh_command_scores_every_customer(sales):
    result = CliRunner().invoke(
        app,
        [
            "analyze",
            "refresh",
            "--as-of",
            "2026-11-01",
            "--horizon",
            "30",
            "--months",
            "6",
            "--discount",
            "0.02",
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert f"Scored {len(sales)} customers" in result.output
    refresh = ValueRefresh.objects.get()
    assert (refresh.horizon_days, refresh.clv_months, str(refresh.discount_rate)) == (
        30,
        6,
        "0.0200",
    )
    assert CustomerValue.objects.count() == len(sales)


@pytest.mark.parametrize(
    "args, message",
    [(["--as-of", "tomorrow"], "not a date"), (["--discount", "1.5"], "discount_rate")],
)
def test_refresh_command_refuses_bad_input(sales, args, message):
    result = CliRunner().invoke(app, ["analyze", "refresh", *args])
    assert result.exit_code == 2 and message in result.output
    assert not ValueRefresh.objects.exists()


def test_nightly_job_uses_the_settings(sales, settings):
    settings.KEHU_VALUE_HORIZON_DAYS = 45
    value_refresh_nightly.call_local()
    assert ValueRefresh.objects.get().horizon_days == 45
