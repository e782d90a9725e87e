"""`kehu analyze …` on real files: CSV in, CSV or Parquet out."""

import csv

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from kehu.analytics.cli import app

from .conftest import cdnow_transactions
from .test_summary import AWKWARD, NOW

runner = CliRunner()


def analyze(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def awkward_csv(tmp_path):
    path = tmp_path / "transactions.csv"
    AWKWARD.to_csv(path, index=False)
    return path


def rows(path):
    with path.open(newline="") as f:
        return {int(r["customer_id"]): r for r in csv.DictReader(f)}


def test_summary_reports_the_awkward_rows_and_writes_csv(awkward_csv, tmp_path):
    out = tmp_path / "summary.csv"
    result = analyze("summary", awkward_csv, out, "--now", NOW.isoformat())
    assert result.exit_code == 0, result.output
    assert "after now: 1" in result.output and "duplicate ids: 1" in result.output
    found = rows(out)
    assert set(found) == {1, 2, 3, 4}
    assert (found[1]["frequency"], found[1]["recency"], found[1]["T"]) == ("2", "9", "89")
    assert float(found[1]["revenue"]) == 150


def test_summary_in_weeks_as_parquet(awkward_csv, tmp_path):
    out = tmp_path / "summary.parquet"
    assert analyze("summary", awkward_csv, out, "--now", NOW, "--unit", "weeks").exit_code == 0
    table = pq.read_table(out).to_pylist()
    one = next(r for r in table if r["customer_id"] == 1)
    assert one["T"] == pytest.approx(89 / 7)


def test_rfm_and_pareto(awkward_csv, tmp_path):
    result = analyze("rfm", awkward_csv, tmp_path / "rfm.csv", "--now", NOW)
    assert result.exit_code == 0, result.output
    assert set(rows(tmp_path / "rfm.csv")) == {1, 2, 3}  # 4 only had a refund
    result = analyze(
        "pareto",
        awkward_csv,
        tmp_path / "p.csv",
        "--now",
        NOW,
        "--measure",
        "profit",
        "--points",
        "3",
    )
    assert result.exit_code == 0, result.output
    # Profit known for customers 1 (60) and 3 (6): the top one of two brings 60 of 66.
    assert "bring 90.9% of profit" in result.output
    with (tmp_path / "p.csv").open() as f:
        assert len(list(csv.DictReader(f))) == 4


def test_clv_on_cdnow(tmp_path):
    source = tmp_path / "cdnow.csv"
    cdnow_transactions().to_csv(source, index=False)
    out = tmp_path / "clv.parquet"
    result = analyze("clv", source, out, "--now", "1997-09-30")
    assert result.exit_code == 0, result.output
    assert "a=0.7929 b=2.426" in result.output and "p=6.25" in result.output
    table = pq.read_table(out)
    assert table.num_rows == 2357
    alive = table.column("probability_alive").to_numpy()
    assert ((alive >= 0) & (alive <= 1)).all()


def test_clv_without_repeat_buyers_says_why_and_writes_nothing(tmp_path):
    source = tmp_path / "once.csv"
    source.write_text(
        "customer_id,at,amount\n"
        + "".join(f"{n},2026-0{1 + n % 9}-0{1 + n % 9} 10:00,{20 + n}\n" for n in range(12))
    )
    out = tmp_path / "clv.csv"
    result = analyze("clv", source, out, "--now", NOW)
    assert result.exit_code == 2
    assert "no repeat buyers with a positive spend" in result.output
    assert not out.exists()


def test_bad_input_is_a_clear_message(tmp_path):
    source = tmp_path / "bad.csv"
    source.write_text("customer,when\n1,2026-01-01\n")
    result = analyze("summary", source, tmp_path / "out.csv", "--now", NOW)
    assert result.exit_code == 2
    assert "customer_id" in result.output
    result = analyze("summary", source, tmp_path / "out.csv", "--now", "yesterday")
    assert result.exit_code == 2


def test_kehu_has_the_analyze_commands():
    from kehu.cli import app as kehu

    result = runner.invoke(kehu, ["analyze", "--help"])
    assert result.exit_code == 0, result.output
    for command in ("summary", "rfm", "pareto", "clv"):
        assert command in result.output


@pytest.fixture
def sales_csv(tmp_path):
    from .test_relationships import SALES

    path = tmp_path / "sales.csv"
    SALES.to_csv(path, index=False)
    return path


def test_summary_with_service_costs(sales_csv, tmp_path):
    costs = tmp_path / "costs.csv"
    costs.write_text("customer_id,cost\n1,75\n4,40\n")
    out = tmp_path / "summary.csv"
    result = analyze("summary", sales_csv, out, "--now", NOW, "--service-costs", costs)
    assert result.exit_code == 0, result.output
    found = rows(out)
    assert float(found[1]["cost_to_serve"]) == 75
    assert float(found[1]["profit"]) == 1500 - 900 - 75
    bad = tmp_path / "bad.csv"
    bad.write_text("who,what\n1,2\n")
    result = analyze("summary", sales_csv, tmp_path / "x.csv", "--now", NOW, "--service-costs", bad)
    assert result.exit_code == 2 and "customer_id, cost" in result.output
    assert not (tmp_path / "x.csv").exists()


def test_relationships_and_movement(sales_csv, tmp_path):
    out = tmp_path / "relationships.csv"
    result = analyze("relationships", sales_csv, out, "--now", NOW, "--volume-top", 0.4)
    assert result.exit_code == 0, result.output
    assert {c: r["relationship"] for c, r in rows(out).items()} == {
        1: "partner",
        2: "functional",
        3: "emotional",
        4: "drifting",
        5: "emotional",
    }
    out = tmp_path / "movement.csv"
    result = analyze(
        "movement", sales_csv, out, "--split", "2026-02-10", "--now", NOW, "--top", 0.4
    )
    assert result.exit_code == 0, result.output
    moved = rows(out)
    assert moved[4]["movement"] == "new"  # first bought on 11 February
    assert moved[2]["top_before"] == "true" and moved[2]["top_after"] == "true"
    result = analyze("movement", sales_csv, out, "--split", "2026-05-01", "--now", NOW)
    assert result.exit_code != 0
