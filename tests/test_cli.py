"""The `kehu` command: users, import and export, and coherent demo data."""

import csv
import io
from collections import Counter

import pytest
from typer.testing import CliRunner

from kehu.cli import app
from kehu.customers.models import Change, Contact, Customer, Note
from kehu.demo import demo_rows
from kehu.users.models import User

pytestmark = pytest.mark.django_db

runner = CliRunner()


def kehu(*args: str, **kwargs):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False, **kwargs)


@pytest.fixture
def data_dir(settings, tmp_path):
    """Demo passwords and the like go to a fresh data directory, not the shared one."""
    settings.DATA_DIR = tmp_path
    return tmp_path


# ---------------------------------------------------------------- createuser


def test_createuser_with_a_role():
    result = kehu(
        "createuser",
        "wang",
        "--role",
        "supervisor",
        "--name",
        "王主管",
        "--password",
        "a-long-enough-passphrase",
    )
    assert result.exit_code == 0, result.output
    assert "Created wang" in result.output
    user = User.objects.get(username="wang")
    assert (user.role, user.first_name) == ("supervisor", "王主管")
    assert user.check_password("a-long-enough-passphrase")


def test_createuser_prompts_for_the_password_twice():
    result = kehu("createuser", "li", input="a-long-enough-passphrase\na-long-enough-passphrase\n")
    assert result.exit_code == 0, result.output
    assert User.objects.get(username="li").role == "agent"


@pytest.mark.parametrize(
    "args, message",
    [
        (["--role", "boss", "--password", "a-long-enough-passphrase"], "Unknown role"),
        (["--password", "123"], "too short"),
        (["--password", "password123"], "too common"),
    ],
)
def test_createuser_refuses_bad_input(args, message):
    result = kehu("createuser", "wang", *args)
    assert result.exit_code == 2
    assert message in result.output
    assert not User.objects.filter(username="wang").exists()


def test_createuser_refuses_a_taken_username(agent):
    result = kehu("createuser", "agent", "--password", "a-long-enough-passphrase")
    assert result.exit_code == 2
    assert "already exists" in result.output
    assert User.objects.filter(username="agent").count() == 1


# ---------------------------------------------------------------- import and export


CSV_TEXT = (
    "外部编号,名称,类型,电话,邮箱\n"
    "E-1,张伟明,个人,138 0013 8000,zhang@example.com\n"
    "E-2,青岛海尔集团有限公司,集团客户,(0532) 8893-9999 ext. 12,\n"
)


def test_import_reports_and_reimport_changes_nothing(tmp_path, agent):
    path = tmp_path / "客户.csv"
    path.write_bytes(CSV_TEXT.encode("gb18030"))
    result = kehu("import", path, "--user", "agent")
    assert result.exit_code == 0, result.output
    assert "created: 2" in result.output
    assert Change.objects.filter(action="imported", actor=agent).count() == 2

    result = kehu("import", path)
    assert result.exit_code == 0, result.output
    assert "unchanged: 2" in result.output and "created: 0" in result.output
    assert Customer.objects.count() == 2


def test_import_of_an_invalid_file_lists_the_rows_and_imports_nothing(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(CSV_TEXT + "E-3,<李娜>,个人,12345,\n", encoding="utf-8")
    result = kehu("import", path)
    assert result.exit_code == 1
    assert "Nothing was imported" in result.output
    assert "12345" in result.output
    assert not Customer.objects.exists()

    result = kehu("import", path, "--skip-invalid")
    assert result.exit_code == 0, result.output
    assert Customer.objects.count() == 2


@pytest.mark.parametrize(
    "name, data, message",
    [
        ("empty.csv", b"", "empty"),
        ("x.pdf", b"%PDF", "CSV and Excel"),
        ("x.csv", "电话\n13800138000\n".encode(), "name"),
    ],
)
def test_import_of_an_unreadable_file_says_why(tmp_path, name, data, message):
    path = tmp_path / name
    path.write_bytes(data)
    result = kehu("import", path)
    assert result.exit_code == 2
    assert message in result.output


def test_import_as_an_unknown_user_is_refused(tmp_path):
    path = tmp_path / "in.csv"
    path.write_bytes(CSV_TEXT.encode())
    result = kehu("import", path, "--user", "nobody")
    assert result.exit_code == 2
    assert "nobody" in result.output
    assert not Customer.objects.exists()


def test_demo_needs_at_least_one_customer(data_dir):
    result = runner.invoke(app, ["demo", "--customers", "0"])
    assert result.exit_code == 2
    assert not Customer.objects.exists()


def test_import_of_a_missing_file_is_refused(tmp_path):
    result = kehu("import", tmp_path / "missing.csv")
    assert result.exit_code != 0
    assert not Customer.objects.exists()


def test_import_contacts(tmp_path):
    customers = tmp_path / "c.csv"
    customers.write_bytes(CSV_TEXT.encode())
    kehu("import", customers)
    contacts = tmp_path / "p.csv"
    contacts.write_text(
        "external_id,organisation,name,decision_role\nP-1,E-2,王建国,决策层\n", encoding="utf-8"
    )
    result = kehu("import", contacts, "--what", "contacts")
    assert result.exit_code == 0, result.output
    assert Contact.objects.get().organisation.external_id == "E-2"


@pytest.mark.parametrize(
    "file_name, encoding", [("out.csv", "utf-8-sig"), ("out.csv", "gb18030"), ("out.xlsx", "")]
)
def test_export_then_import_gives_the_same_customers(tmp_path, file_name, encoding):
    source = tmp_path / "in.csv"
    source.write_bytes(CSV_TEXT.encode())
    kehu("import", source)
    before = sorted(Customer.objects.values_list("external_id", "name", "kind"))
    out = tmp_path / file_name
    args = ["export", out] + (["--encoding", encoding] if encoding else [])
    result = kehu(*args)
    assert result.exit_code == 0, result.output
    if encoding:
        rows = list(csv.reader(io.StringIO(out.read_bytes().decode(encoding))))
        assert len(rows) == 3 and "张伟明" in rows[1]

    Customer.objects.all().delete()
    result = kehu("import", out, *(["--encoding", encoding] if encoding else []))
    assert result.exit_code == 0, result.output
    assert sorted(Customer.objects.values_list("external_id", "name", "kind")) == before
    haier = Customer.objects.get(external_id="E-2")
    assert list(haier.phones.values_list("e164", "extension")) == [("+8653288939999", "12")]


def test_export_contacts(tmp_path, agent):
    source = tmp_path / "in.csv"
    source.write_bytes(CSV_TEXT.encode())
    kehu("import", source)
    from kehu.customers import services

    services.contact_create(
        actor=agent, organisation=Customer.objects.get(external_id="E-2"), name="王建国"
    )
    out = tmp_path / "contacts.csv"
    assert kehu("export", out, "--what", "contacts").exit_code == 0
    assert "王建国" in out.read_text(encoding="utf-8-sig")


# ---------------------------------------------------------------- demo


def test_demo_loads_coherent_data(data_dir):
    result = kehu("demo", "--customers", "20", "--seed", "7")
    assert result.exit_code == 0, result.output
    assert "Created 20 customers" in result.output
    login = (data_dir / "demo-login.txt").read_text().split()
    assert login[0] == "admin" and login[1] in result.output
    assert User.objects.get(username="admin").check_password(login[1])
    assert set(User.objects.values_list("username", flat=True)) >= {
        "admin",
        "agent",
        "manager",
        "supervisor",
        "analyst",
    }

    customers = Customer.objects.all()
    assert customers.count() == 20
    organisations = [c for c in customers if c.is_organisation]
    assert organisations, "20 customers with a 30% chance each should include organisations"
    for org in organisations:
        contacts = list(org.contacts.all())
        assert 2 <= len(contacts) <= 6, org
        assert {c.decision_role for c in contacts} >= {"decision"}
        assert all(c.name and c.title and c.salutation for c in contacts)
        assert all(c.phones.exists() for c in contacts)
    for customer in customers:
        assert customer.phones.filter(contact=None).exists(), customer
        if customer.status == "lost":
            assert customer.lost_reason
        if not customer.is_organisation:
            assert not customer.contacts.exists()
    assert Note.objects.exists()


def test_demo_data_is_reproducible_from_its_seed():
    first = demo_rows(customers=40, seed=11)
    assert demo_rows(customers=40, seed=11) == first
    assert demo_rows(customers=40, seed=12) != first
    customers, contacts = first
    assert len(customers) == 41 and customers[0][0] == "external_id"
    kinds = Counter(row[1] for row in customers[1:])
    assert kinds["organisation"] and kinds["individual"]
    per_org = Counter(row[1] for row in contacts[1:])
    assert set(per_org) == {row[0] for row in customers[1:] if row[1] == "organisation"}
    assert all(2 <= n <= 6 for n in per_org.values())


def test_demo_rows_are_all_valid_imports(manager):
    from kehu.customers.transfer import import_file

    customers, contacts = demo_rows(customers=60, seed=3)
    data = io.StringIO()
    csv.writer(data).writerows(customers)
    report = import_file(name="demo.csv", data=data.getvalue().encode())
    assert report.written and not report.rejected, report.rejected[:3]
    data = io.StringIO()
    csv.writer(data).writerows(contacts)
    report = import_file(name="contacts.csv", data=data.getvalue().encode(), what="contacts")
    assert report.written and not report.rejected, report.rejected[:3]


def test_demo_same_seed_gives_the_same_names(data_dir):
    kehu("demo", "--customers", "20", "--seed", "5")
    names = sorted(Customer.objects.values_list("name", flat=True))
    contacts = sorted(Contact.objects.values_list("name", flat=True))
    # What the demo made around the customers, which protects them from deletion.
    from kehu.promises.models import Commitment, FollowUp
    from kehu.sales.models import Transaction
    from kehu.service.models import Case, ImprovementAction

    for model in (FollowUp, Commitment, ImprovementAction, Case, Transaction, Customer):
        model.objects.all().delete()
    result = kehu("demo", "--customers", "20", "--seed", "5")
    assert result.exit_code == 0, result.output
    assert sorted(Customer.objects.values_list("name", flat=True)) == names
    assert sorted(Contact.objects.values_list("name", flat=True)) == contacts


def test_demo_into_a_new_database_with_an_old_data_directory(data_dir):
    """The data directory remembers the demo password; a fresh database has no users yet."""
    (data_dir / "demo-login.txt").write_text("admin remembered-password\n")
    result = kehu("demo", "--customers", "5")
    assert result.exit_code == 0, result.output
    assert Customer.objects.count() == 5
    assert User.objects.get(username="admin").check_password("remembered-password")


def test_the_installed_command_runs_on_a_fresh_data_directory(tmp_path):
    """The real entry point as a user runs it, in an empty data directory: whichever
    command comes first (here createuser, then import) finds the archive ready."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("KEHU_") and k != "DJANGO_SETTINGS_MODULE"
    }
    env["KEHU_DATA_DIR"] = str(tmp_path)
    command = Path(sys.executable).parent / "kehu"

    def run(*args):
        return subprocess.run(
            [command, *map(str, args)], env=env, capture_output=True, text=True, timeout=300
        )

    result = run("createuser", "wang", "--role", "admin", "--password", "a-long-passphrase-1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "kehu.sqlite3").exists()
    (tmp_path / "in.csv").write_bytes(CSV_TEXT.encode("gb18030"))
    result = run("import", tmp_path / "in.csv", "--user", "wang")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "created: 2" in result.stdout
