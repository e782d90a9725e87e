"""Importing transactions (page and `kehu import-transactions`): CSV or Excel, UTF-8 or GBK,
all rows or none with the rejected rows reported, idempotent by external id, then points."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook
from typer.testing import CliRunner

from kehu.cli import app
from kehu.loyalty.imports import transactions_import_and_earn
from kehu.loyalty.models import PointsEntry
from kehu.sales.models import Transaction
from tests.conftest import logged_in
from tests.loyalty.factories import member


@pytest.fixture
def m(supervisor):
    return member(supervisor, name="王芳")


def _csv(m, rows=None) -> str:
    rows = rows or [f"{m.customer.number},2025-03-01 10:00,100,,茶,T1,",
                    f"{m.customer.number},2025-03-02 10:00,50,purchase,点心,T2,",
                    f"{m.customer.number},2025-03-03 10:00,20,退款,,T3,T1"]
    return "customer,time,amount,kind,category,external_id,refund_of\n" + "\n".join(rows) + "\n"


def test_import_earns_points_and_a_second_import_changes_nothing(supervisor, m):
    report, earned = transactions_import_and_earn(actor=supervisor, name="t.csv",
                                                  data=_csv(m).encode())
    assert report.written and report.created == 3 and earned == 130
    m.refresh_from_db()
    assert m.balance == 130 == sum(PointsEntry.objects.values_list("points", flat=True))
    report, earned = transactions_import_and_earn(actor=supervisor, name="t.csv",
                                                  data=_csv(m).encode())
    assert report.written and (report.created, report.unchanged, earned) == (0, 3, 0)
    assert Transaction.objects.count() == 3 and PointsEntry.objects.count() == 3


def test_a_known_id_with_other_values_is_rejected(supervisor, m):
    transactions_import_and_earn(actor=supervisor, name="t.csv", data=_csv(m).encode())
    data = _csv(m, [f"{m.customer.number},2025-03-01 10:00,999,,茶,T1,",
                    f"{m.customer.number},2025-03-05 10:00,10,,茶,T9,"]).encode()
    report, earned = transactions_import_and_earn(actor=supervisor, name="t.csv", data=data)
    assert not report.written and earned == 0
    assert "already recorded" in " ".join(report.rejected[0]["errors"])
    assert not Transaction.objects.filter(external_id="T9").exists()


def test_gbk_csv_and_excel(supervisor, m):
    report, earned = transactions_import_and_earn(actor=supervisor, name="t.csv",
                                                  data=_csv(m).encode("gbk"))
    assert report.created == 3 and earned == 130
    book = Workbook()
    sheet = book.active
    sheet.append(["customer", "time", "amount", "external_id"])
    sheet.append([m.customer.number, "2025-04-01 09:00", 80, "X1"])
    out = io.BytesIO()
    book.save(out)
    report, earned = transactions_import_and_earn(actor=supervisor, name="t.xlsx",
                                                  data=out.getvalue())
    assert report.created == 1 and earned == 80


def test_the_page_imports_and_reports_rejected_rows(supervisor_client, m):
    url = reverse("loyalty:import")
    bad = _csv(m, [f"{m.customer.number},2025-03-01,100,,茶,T1,", "nobody,2025-03-01,5,,,T2,"])
    response = supervisor_client.post(url, {"file": SimpleUploadedFile("t.csv", bad.encode())})
    text = response.content.decode()
    assert "Nothing was imported" in text and "no customer" in text
    assert not Transaction.objects.exists()
    response = supervisor_client.post(url, {"file": SimpleUploadedFile("t.csv",
                                                                       _csv(m).encode())})
    assert "Imported 3 transactions" in response.content.decode()
    assert "130 points earned" in response.content.decode()


def test_the_page_says_why_a_file_is_unreadable(supervisor_client):
    response = supervisor_client.post(reverse("loyalty:import"), {
        "file": SimpleUploadedFile("t.pdf", b"%PDF")})
    assert "Only CSV and Excel" in response.content.decode()


def test_agents_and_anonymous_are_refused(agent, m, client):
    url = reverse("loyalty:import")
    upload = {"file": SimpleUploadedFile("t.csv", _csv(m).encode())}
    assert logged_in(agent).post(url, upload).status_code == 403
    assert client.get(url).status_code == 302
    assert not Transaction.objects.exists()


def test_the_command(tmp_path, supervisor, m):
    path = tmp_path / "t.csv"
    path.write_text(_csv(m), encoding="gbk")
    runner = CliRunner()
    result = runner.invoke(app, ["import-transactions", str(path), "--user", "supervisor"])
    assert result.exit_code == 0, result.output
    assert "created: 3" in result.output and "points earned: 130" in result.output
    result = runner.invoke(app, ["import-transactions", str(path)])
    assert result.exit_code == 0 and "unchanged: 3" in result.output
    path.write_text(_csv(m, ["nobody,2025-03-01,5,,,Z1,"]))
    result = runner.invoke(app, ["import-transactions", str(path)])
    assert result.exit_code == 1 and "Nothing was imported" in result.output
    assert "no customer" in result.output


def test_the_command_refuses_a_user_who_may_not_record(tmp_path, agent, m):
    path = tmp_path / "t.csv"
    path.write_text(_csv(m))
    result = CliRunner().invoke(app, ["import-transactions", str(path), "--user", "agent"])
    assert result.exit_code == 2 and "may not record" in result.output
    assert not Transaction.objects.exists()
