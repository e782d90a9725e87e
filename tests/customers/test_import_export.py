"""Import and export: Chinese files in every encoding, strict validation, idempotent re-imports."""

import csv
import datetime
import io
import random

import pytest
from django.utils import translation
from openpyxl import Workbook, load_workbook

from kehu.customers import services, transfer
from kehu.customers.choices import CommunicationStyle, CustomerStatus, LostReason
from kehu.customers.models import (
    Address,
    Change,
    Contact,
    Customer,
    Email,
    Phone,
    SearchEntry,
    Tag,
)
from kehu.customers.selectors import customer_search
from kehu.customers.transfer import (
    ImportFileError,
    export_csv,
    export_rows,
    export_xlsx,
    import_file,
)

pytestmark = pytest.mark.django_db

MODELS = (Customer, Contact, Phone, Email, Address, Change, SearchEntry, Tag)

HEADER = [
    "external_id",
    "kind",
    "name",
    "salutation",
    "status",
    "lost_reason",
    "birthday",
    "usual",
    "tags",
    "phones",
    "emails",
    "addresses",
]
ROWS = [
    [
        "C-1",
        "individual",
        "张伟明",
        "张先生",
        "active",
        "",
        "1980-05-17",
        "高钙牛奶",
        "VIP;老客户",
        "138 0013 8000; +86 139-0013-9000",
        "zhang@example.com",
        "北京市朝阳区建国路88号",
    ],
    [
        "C-2",
        "organisation",
        "青岛海尔集团有限公司",
        "",
        "prospect",
        "",
        "",
        "",
        "",
        "(0532) 8893-9999 ext. 12",
        "service@haier.example",
        "青岛市崂山区海尔路1号",
    ],
    [
        "C-3",
        "individual",
        "李娜",
        "李女士",
        "lost",
        "price",
        "",
        "",
        "价格敏感",
        "0086 13700137000",
        "",
        "",
    ],
]


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


def csv_bytes(rows, encoding="utf-8", delimiter=",") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter).writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(rows) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def assert_sample_imported():
    zhang = Customer.objects.get(external_id="C-1")
    assert (zhang.name, zhang.kind, zhang.salutation, zhang.usual) == (
        "张伟明",
        "individual",
        "张先生",
        "高钙牛奶",
    )
    assert zhang.birthday == datetime.date(1980, 5, 17)
    assert sorted(zhang.phones.values_list("e164", flat=True)) == [
        "+8613800138000",
        "+8613900139000",
    ]
    assert sorted(zhang.tags.values_list("name", flat=True)) == ["VIP", "老客户"]
    assert list(zhang.addresses.values_list("text", flat=True)) == ["北京市朝阳区建国路88号"]
    haier = Customer.objects.get(external_id="C-2")
    assert (haier.kind, haier.status) == ("organisation", "prospect")
    assert list(haier.phones.values_list("e164", "extension")) == [("+8653288939999", "12")]
    li = Customer.objects.get(external_id="C-3")
    assert (li.status, li.lost_reason) == ("lost", "price")
    assert [h.customer.pk for h in customer_search(query="伟明").hits] == [zhang.pk]


# ---------------------------------------------------------------- encodings and formats


@pytest.mark.parametrize(
    "name, data",
    [
        ("utf8.csv", csv_bytes([HEADER, *ROWS], "utf-8")),
        ("bom.csv", csv_bytes([HEADER, *ROWS], "utf-8-sig")),
        ("gbk.csv", csv_bytes([HEADER, *ROWS], "gb18030")),
        ("gbk-crlf.csv", csv_bytes([HEADER, *ROWS], "gbk").replace(b"\r\n", b"\n")),
        ("semicolons.csv", csv_bytes([HEADER, *ROWS], delimiter=";")),
        ("tabs.tsv", csv_bytes([HEADER, *ROWS], delimiter="\t")),
        ("excel.xlsx", xlsx_bytes([HEADER, *ROWS])),
        ("EXCEL.XLSX", xlsx_bytes([HEADER, *ROWS])),
    ],
)
def test_every_file_format_and_encoding_reads_right(name, data):
    report = import_file(name=name, data=data)
    assert report.written and not report.rejected
    assert (report.total, report.created) == (3, 3)
    assert_sample_imported()


def test_declared_encoding_is_used():
    data = csv_bytes([HEADER, *ROWS], "gb18030")
    assert import_file(name="x.csv", data=data, encoding="gb18030").created == 3


def test_chinese_column_headers_and_values_are_accepted():
    with translation.override("zh-hans"):
        lost = str(CustomerStatus.LOST.label)
        price = str(LostReason.PRICE.label)
    rows = [
        [
            "外部编号",
            "客户类型",
            "客户名称",
            "称呼",
            "状态",
            "流失原因",
            "电话",
            "邮箱",
            "标签",
            "地址",
        ],
        [
            "C-1",
            "个人",
            "张伟明",
            "张先生",
            "",
            "",
            "138 0013 8000",
            "zhang@example.com",
            "VIP，老客户",
            "北京",
        ],
        ["C-2", "集团客户", "青岛海尔集团有限公司", "", lost, price, "0532-88939999", "", "", ""],
    ]
    report = import_file(name="中文.csv", data=csv_bytes(rows, "gb18030"))
    assert report.written, report.rejected
    zhang = Customer.objects.get(external_id="C-1")
    assert (zhang.kind, zhang.name, zhang.salutation) == ("individual", "张伟明", "张先生")
    assert sorted(zhang.tags.values_list("name", flat=True)) == ["VIP", "老客户"]
    haier = Customer.objects.get(external_id="C-2")
    assert (haier.kind, haier.status, haier.lost_reason) == ("organisation", "lost", "price")


def test_excel_dates_and_numbers_read_as_text():
    rows = [
        ["name", "birthday", "phones"],
        ["张伟明", datetime.datetime(1980, 5, 17), 13800138000],
        ["李娜", datetime.date(1990, 1, 2), 13700137000.0],
    ]
    assert import_file(name="x.xlsx", data=xlsx_bytes(rows)).written
    zhang = Customer.objects.get(name="张伟明")
    assert zhang.birthday == datetime.date(1980, 5, 17)
    assert zhang.phones.get().e164 == "+8613800138000"
    assert Customer.objects.get(name="李娜").phones.get().e164 == "+8613700137000"


def test_only_the_name_column_is_required():
    report = import_file(name="x.csv", data="名称\n张伟明\n李娜\n\n".encode())
    assert (report.total, report.created) == (2, 2)
    assert set(Customer.objects.values_list("kind", "status")) == {("individual", "active")}


def test_import_records_history_and_makes_customers_findable(agent):
    import_file(name="sample.csv", data=csv_bytes([HEADER, *ROWS]), actor=agent)
    change = Change.objects.get(customer__external_id="C-2")
    assert (change.action, change.actor) == ("imported", agent)
    assert change.fields == {"file": "sample.csv", "row": 3}
    assert customer_search(query="0532 8893 9999").hits[0].customer.external_id == "C-2"
    assert customer_search(query=Customer.objects.get(external_id="C-3").number).hits


# ---------------------------------------------------------------- validation


BAD_ROWS = [
    (["", "individual", "", "", "", "", "", "", "", "", "", ""], "name"),
    (["", "individual", "<b>张</b>", "", "", "", "", "", "", "", "", ""], "name"),
    (["", "robot", "张三", "", "", "", "", "", "", "", "", ""], "kind"),
    (["", "individual", "张三", "", "sleeping", "", "", "", "", "", "", ""], "status"),
    (["", "individual", "张三", "", "lost", "", "", "", "", "", "", ""], "lost_reason"),
    (["", "individual", "张三", "", "lost", "bored", "", "", "", "", "", ""], "lost_reason"),
    (["", "individual", "张三", "", "", "", "17/05/1980", "", "", "", "", ""], "birthday"),
    (["", "individual", "张三", "", "", "", "", "", "", "12345", "", ""], "phones"),
    (["", "individual", "张三", "", "", "", "", "", "", "", "not-an-email", ""], "emails"),
    (["", "individual", "张" * 201, "", "", "", "", "", "", "", "", ""], "name"),
    (["", "individual", "张三", "", "", "", "", "奶" * 201, "", "", "", ""], "usual"),
    (["", "individual", "张三", "", "", "", "", "", "标" * 51, "", "", ""], "tags"),
    (["", "individual", "张三", "", "", "", "", "", "", "", "", "路" * 301], "addresses"),
    (["x" * 101, "individual", "张三", "", "", "", "", "", "", "", "", ""], "external_id"),
]


@pytest.mark.parametrize("bad_row, column", BAD_ROWS)
def test_one_bad_row_rejects_the_whole_file_and_says_why(bad_row, column):
    before = counts()
    report = import_file(name="x.csv", data=csv_bytes([HEADER, ROWS[0], bad_row, ROWS[1]]))
    assert not report.written
    assert report.total == 3
    assert len(report.rejected) == 1
    rejected = report.rejected[0]
    assert rejected["row"] == 3
    assert any(error.startswith(column) for error in rejected["errors"]), rejected
    assert (report.created, report.updated) == (0, 0)
    assert counts() == before


@pytest.mark.parametrize("bad_row, column", BAD_ROWS)
def test_bad_rows_are_refused_in_excel_files_too(bad_row, column):
    report = import_file(name="x.xlsx", data=xlsx_bytes([HEADER, bad_row]))
    assert not report.written and report.rejected[0]["row"] == 2
    assert not Customer.objects.exists()


def test_every_bad_row_is_reported_not_just_the_first():
    rows = [HEADER, ROWS[0], BAD_ROWS[0][0], ROWS[1], BAD_ROWS[2][0], BAD_ROWS[7][0]]
    report = import_file(name="x.csv", data=csv_bytes(rows))
    assert [r["row"] for r in report.rejected] == [3, 5, 6]


def test_a_row_with_several_problems_lists_them_all():
    row = ["", "robot", "<张>", "", "lost", "", "", "", "", "12345", "bad", ""]
    report = import_file(name="x.csv", data=csv_bytes([HEADER, row]))
    errors = " ".join(report.rejected[0]["errors"])
    for column in ("name", "kind", "lost_reason", "phones", "emails"):
        assert column in errors


def test_a_rows_problems_come_in_the_order_of_its_checks():
    """Checks run column by column over a chunk; a row's messages still read in one order:
    lengths, name, phones, emails, a repeated external id, then the choices and the rest."""
    rows = [HEADER, ROWS[0], ["C-1", "robot", "<张>", "x" * 101, "lost", "", "1990-02-30",
                              "", "t" * 51, "12345;999", "bad", "a" * 301]]
    report = import_file(name="x.csv", data=csv_bytes(rows))
    columns = [error.split(":")[0] for error in report.rejected[0]["errors"]]
    assert columns == ["salutation", "name", "phones", "phones", "emails", "external_id “C-1” "
                       "already appears in row 2.", "kind", "lost_reason", "birthday", "tags",
                       "addresses"]


def test_skip_invalid_imports_the_good_rows():
    rows = [HEADER, ROWS[0], BAD_ROWS[0][0], ROWS[1], BAD_ROWS[7][0], ROWS[2]]
    report = import_file(name="x.csv", data=csv_bytes(rows), skip_invalid=True)
    assert report.written
    assert (report.total, report.created, len(report.rejected)) == (5, 3, 2)
    assert_sample_imported()
    assert Customer.objects.count() == 3


def test_duplicate_external_ids_within_a_file_are_rejected():
    rows = [HEADER, ROWS[0], ROWS[1], ["C-1", "individual", "张伟民"] + [""] * 9]
    report = import_file(name="x.csv", data=csv_bytes(rows))
    assert not report.written
    assert report.rejected[0]["row"] == 4
    assert "row 2" in report.rejected[0]["errors"][0]
    assert not Customer.objects.exists()


def test_possible_duplicates_are_warned_about(agent):
    existing = services.customer_create(
        actor=agent, kind="individual", name="张伟", phones=["13800138000"]
    )
    report = import_file(name="x.csv", data=csv_bytes([HEADER, ROWS[0]]))
    assert report.written
    assert [w["row"] for w in report.warnings] == [2]
    assert existing.number in report.warnings[0]["message"]


def test_unknown_owner_is_rejected_and_known_owner_assigned(manager):
    data = "name,owner\n张伟明,manager\n李娜,nobody\n".encode()
    report = import_file(name="x.csv", data=data)
    assert report.rejected == [{"row": 3, "errors": [report.rejected[0]["errors"][0]]}]
    assert "nobody" in report.rejected[0]["errors"][0]
    import_file(name="x.csv", data=data, skip_invalid=True)
    assert Customer.objects.get(name="张伟明").owner == manager


# ---------------------------------------------------------------- files that cannot be read


@pytest.mark.parametrize(
    "name, data, message",
    [
        ("x.csv", b"", "empty"),
        ("x.csv", "名称\n".encode(), "no data rows"),
        ("x.csv", "电话,邮箱\n13800138000,a@example.com\n".encode(), "name"),
        ("x.csv", random.Random(7).randbytes(4000), "UTF-8"),
        ("x.csv", xlsx_bytes([["name"], ["张三"]]), "UTF-8"),
        ("x.xlsx", b"name\n\xe5\xbc\xa0\xe4\xb8\x89\n", "Excel"),
        ("x.xlsx", random.Random(7).randbytes(4000), "Excel"),
        ("x.pdf", "名称\n张三\n".encode(), "CSV and Excel"),
        ("x.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "CSV and Excel"),
    ],
)
def test_unreadable_files_are_refused_with_a_clear_message(name, data, message):
    with pytest.raises(ImportFileError, match=message):
        import_file(name=name, data=data)
    assert not Customer.objects.exists()


def test_an_empty_excel_workbook_is_refused():
    with pytest.raises(ImportFileError, match="empty"):
        import_file(name="x.xlsx", data=xlsx_bytes([]))


def test_contacts_file_needs_its_columns():
    with pytest.raises(ImportFileError, match="organisation"):
        import_file(name="x.csv", data="name\n王总\n".encode(), what="contacts")
    with pytest.raises(ImportFileError):
        import_file(name="x.csv", data="name\n王总\n".encode(), what="orders")


# ---------------------------------------------------------------- re-import


def test_reimporting_the_same_file_changes_nothing():
    data = csv_bytes([HEADER, *ROWS])
    import_file(name="x.csv", data=data)
    long_ago = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    Customer.objects.update(updated_at=long_ago)
    before = counts()

    report = import_file(name="x.csv", data=data)
    assert report.written
    assert (report.total, report.created, report.updated, report.unchanged) == (3, 0, 0, 3)
    assert counts() == before
    assert set(Customer.objects.values_list("updated_at", flat=True)) == {long_ago}


def test_reimporting_the_same_excel_file_changes_nothing():
    data = xlsx_bytes([HEADER, *ROWS])
    import_file(name="x.xlsx", data=data)
    before = counts()
    report = import_file(name="x.xlsx", data=data)
    assert (report.created, report.updated, report.unchanged) == (0, 0, 3)
    assert counts() == before


def test_changing_one_row_updates_only_that_customer(agent):
    import_file(name="x.csv", data=csv_bytes([HEADER, *ROWS]))
    long_ago = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    Customer.objects.update(updated_at=long_ago)
    changed = [row[:] for row in ROWS]
    changed[1][7] = "上门安装"
    changed[1][9] = "0532-88939999 ext. 13"

    report = import_file(name="x.csv", data=csv_bytes([HEADER, *changed]), actor=agent)
    assert (report.created, report.updated, report.unchanged) == (0, 1, 2)
    haier = Customer.objects.get(external_id="C-2")
    assert haier.usual == "上门安装"
    assert list(haier.phones.values_list("extension", flat=True)) == ["13"]
    assert haier.updated_at > long_ago
    assert set(Customer.objects.exclude(pk=haier.pk).values_list("updated_at", flat=True)) == {
        long_ago
    }
    change = Change.objects.get(action="updated")
    assert (change.customer, change.actor) == (haier, agent)
    assert set(change.fields) == {"usual", "phones"}


def test_rows_without_external_id_are_created_each_time():
    data = "name\n张伟明\n".encode()
    import_file(name="x.csv", data=data)
    import_file(name="x.csv", data=data)
    assert Customer.objects.filter(name="张伟明").count() == 2


def test_import_by_a_merged_customers_external_id_lands_on_the_survivor(agent, supervisor):
    import_file(name="x.csv", data=csv_bytes([HEADER, *ROWS]))
    survivor = services.customer_create(actor=agent, kind="individual", name="张伟明")
    duplicate = Customer.objects.get(external_id="C-1")
    services.customer_merge(actor=supervisor, survivor=survivor, duplicate=duplicate)
    changed = [row[:] for row in ROWS]
    changed[0][7] = "无糖豆浆"
    report = import_file(name="x.csv", data=csv_bytes([HEADER, *changed]))
    assert report.written and report.created == 0
    survivor.refresh_from_db()
    assert survivor.usual == "无糖豆浆"
    assert Customer.objects.filter(merged_into=None).count() == 3
    # ...and importing that file once more changes nothing, the survivor included.
    before = counts()
    long_ago = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    Customer.objects.update(updated_at=long_ago)
    report = import_file(name="x.csv", data=csv_bytes([HEADER, *changed]))
    assert (report.created, report.updated, report.unchanged) == (0, 0, 3)
    assert counts() == before
    assert Customer.objects.get(pk=survivor.pk).updated_at == long_ago


# ---------------------------------------------------------------- contacts


CONTACT_HEADER = [
    "external_id",
    "organisation",
    "name",
    "title",
    "decision_role",
    "style",
    "phones",
    "emails",
]


def _org_file():
    import_file(name="x.csv", data=csv_bytes([HEADER, *ROWS]))
    return Customer.objects.get(external_id="C-2")


def test_contacts_import_by_organisation_number_or_external_id():
    haier = _org_file()
    with translation.override("zh-hans"):
        owl = str(CommunicationStyle.OWL.label)  # as the Chinese pages show it
    rows = [
        CONTACT_HEADER,
        ["P-1", "C-2", "王建国", "总经理", "decision", "eagle", "139 0013 9001", "w@haier.example"],
        ["P-2", haier.number, "李娜", "采购经理", "Management layer", owl, "", ""],
    ]
    report = import_file(name="c.csv", data=csv_bytes(rows), what="contacts")
    assert report.written and report.created == 2
    wang, li = haier.contacts.order_by("id")
    assert (wang.name, wang.decision_role, wang.style) == ("王建国", "decision", "eagle")
    assert wang.phones.get().customer == haier
    assert (li.decision_role, li.style) == ("management", "owl")
    assert [h.contact.pk for h in customer_search(query="王建国").hits] == [wang.pk]


def test_contacts_import_accepts_chinese_headers():
    haier = _org_file()
    rows = [["外部编号", "所属客户", "姓名", "职务"], ["P-1", "C-2", "王建国", "总经理"]]
    assert import_file(name="c.csv", data=csv_bytes(rows, "gb18030"), what="contacts").written
    assert haier.contacts.get().title == "总经理"


def test_contacts_for_a_missing_or_individual_customer_reject_the_file():
    _org_file()
    rows = [
        CONTACT_HEADER,
        ["P-1", "C-2", "王建国", "", "", "", "", ""],
        ["P-2", "C-1", "张太太", "", "", "", "", ""],  # C-1 is an individual
        ["P-3", "NOPE", "赵六", "", "", "", "", ""],
    ]
    before = counts()
    report = import_file(name="c.csv", data=csv_bytes(rows), what="contacts")
    assert not report.written
    assert [r["row"] for r in report.rejected] == [3, 4]
    assert counts() == before
    report = import_file(name="c.csv", data=csv_bytes(rows), what="contacts", skip_invalid=True)
    assert report.written and report.created == 1
    assert Contact.objects.get().name == "王建国"


def test_reimporting_contacts_changes_nothing_and_one_change_updates_one():
    haier = _org_file()
    rows = [
        CONTACT_HEADER,
        ["P-1", "C-2", "王建国", "总经理", "decision", "eagle", "139 0013 9001", ""],
        ["P-2", "C-2", "李娜", "采购经理", "management", "", "", "li@haier.example"],
    ]
    import_file(name="c.csv", data=csv_bytes(rows), what="contacts")
    before = counts()
    report = import_file(name="c.csv", data=csv_bytes(rows), what="contacts")
    assert (report.created, report.updated, report.unchanged) == (0, 0, 2)
    assert counts() == before
    rows[2][3] = "采购总监"
    report = import_file(name="c.csv", data=csv_bytes(rows), what="contacts")
    assert (report.created, report.updated, report.unchanged) == (0, 1, 1)
    assert haier.contacts.get(external_id="P-2").title == "采购总监"


def test_bad_contact_rows_are_reported():
    _org_file()
    rows = [
        CONTACT_HEADER,
        ["P-1", "", "王建国", "", "", "", "", ""],
        ["P-2", "C-2", "李娜", "", "boss", "tiger", "0", ""],
        ["P-1", "C-2", "赵六", "", "", "", "", ""],
    ]
    report = import_file(name="c.csv", data=csv_bytes(rows), what="contacts")
    assert [r["row"] for r in report.rejected] == [2, 3]
    errors = " ".join(report.rejected[1]["errors"])
    assert "decision_role" in errors and "style" in errors and "phones" in errors
    assert not Contact.objects.exists()


# ---------------------------------------------------------------- export


def _export_csv(what="customers", encoding="utf-8-sig") -> bytes:
    buffer = io.BytesIO()
    export_csv(buffer, what=what, encoding=encoding)
    return buffer.getvalue()


def _export_xlsx(what="customers") -> bytes:
    buffer = io.BytesIO()
    export_xlsx(buffer, what=what)
    return buffer.getvalue()


def _snapshot() -> list[tuple]:
    return sorted(
        [
            (
                c.external_id,
                c.kind,
                c.name,
                c.salutation,
                c.status,
                c.lost_reason,
                c.owner_id,
                c.birthday,
                c.industry,
                c.usual,
                c.preferences,
                c.needs,
                tuple(sorted(t.name for t in c.tags.all())),
                tuple(sorted((p.e164, p.extension) for p in c.phones.all())),
                tuple(sorted(e.address for e in c.emails.all())),
                tuple(a.text for a in c.addresses.all()),
            )
            for c in Customer.objects.filter(merged_into=None)
        ],
        key=repr,
    )


def _richer_archive(agent, manager):
    import_file(name="x.csv", data=csv_bytes([HEADER, *ROWS]))
    services.customer_create(
        actor=agent,
        kind="individual",
        name="王小明",
        owner=manager,
        industry="零售",
        preferences="喜欢微信沟通\n周末不打扰",
        needs="想了解会员积分",
        phones=["+44 20 7946 0958", "(010) 6552-9988 ext. 12"],
        emails=["wang@example.com"],
        addresses=["上海市, 浦东新区", "杭州"],
        tags=["推荐人"],
    )


@pytest.mark.parametrize("fmt", ["csv-utf8", "csv-gb18030", "xlsx"])
def test_export_then_import_into_an_empty_archive_gives_the_same_customers(agent, manager, fmt):
    _richer_archive(agent, manager)
    expected = _snapshot()
    if fmt == "xlsx":
        name, data = "out.xlsx", _export_xlsx()
    else:
        name, data = (
            "out.csv",
            _export_csv(encoding=fmt.removeprefix("csv-").replace("utf8", "utf-8-sig")),
        )
    Customer.objects.all().delete()
    Tag.objects.all().delete()

    report = import_file(name=name, data=data)
    assert report.written, report.rejected
    assert report.created == len(expected)
    assert _snapshot() == expected


def test_export_csv_opens_in_chinese_excel():
    import_file(name="x.csv", data=csv_bytes([HEADER, *ROWS]))
    data = _export_csv()
    assert data.startswith(b"\xef\xbb\xbf")
    assert "张伟明" in data.decode("utf-8-sig")
    assert "张伟明" in _export_csv(encoding="gb18030").decode("gb18030")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == [row for row in next(export_rows())]
    assert len(rows) == 4


def test_merged_customers_are_not_exported(agent, supervisor):
    a = services.customer_create(actor=agent, kind="individual", name="甲")
    b = services.customer_create(actor=agent, kind="individual", name="乙")
    services.customer_merge(actor=supervisor, survivor=a, duplicate=b)
    names = [row[3] for row in list(export_rows())[1:]]
    assert names == ["甲"]


def test_contacts_export_round_trips(agent):
    haier = _org_file()
    services.contact_create(
        actor=agent,
        organisation=haier,
        name="王建国",
        title="总经理",
        decision_role="decision",
        style="owl",
        external_id="P-1",
        phones=["139 0013 9001"],
        emails=["w@haier.example"],
    )
    data = _export_csv(what="contacts")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[1][:7] == ["P-1", haier.number, "王建国", "", "总经理", "decision", "owl"]
    Contact.objects.all().delete()
    report = import_file(name="contacts.csv", data=data, what="contacts")
    assert report.written and report.created == 1
    wang = haier.contacts.get()
    assert (wang.name, wang.style, wang.phones.get().e164) == ("王建国", "owl", "+8613900139001")


FORMULAS = [
    "=1+2",
    '=HYPERLINK("http://evil.example","点我")',
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+2",
    "\r=1+2",
]


@pytest.mark.parametrize("payload", FORMULAS)
def test_export_never_writes_a_cell_a_spreadsheet_would_run(agent, payload):
    services.customer_create(
        actor=agent, kind="individual", name=payload, usual=payload, preferences=payload
    )
    for fmt in ("csv", "xlsx"):
        if fmt == "csv":
            rows = list(csv.reader(io.StringIO(_export_csv().decode("utf-8-sig"))))
        else:
            sheet = load_workbook(io.BytesIO(_export_xlsx())).worksheets[0]
            rows = [[c.value for c in row] for row in sheet.iter_rows()]
            assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)
        values = [v for v in rows[1] if v]
        assert values
        for value in values:
            assert value[0] not in "=+-@\t\r", (fmt, value)


@pytest.mark.parametrize("payload", FORMULAS)
def test_guarded_cells_read_back_as_they_were_written(agent, payload):
    services.customer_create(
        actor=agent,
        kind="individual",
        name=payload.strip() or "x",
        usual=payload.strip(),
        external_id="F-1",
    )
    expected = _snapshot()
    data = _export_csv()
    Customer.objects.all().delete()
    assert import_file(name="out.csv", data=data).written
    assert _snapshot() == expected


def test_export_edit_import_updates_customers_in_place(agent):
    """Customers without an external id are matched by the exported customer number."""
    import io as _io

    from kehu.customers import services as _services
    from kehu.customers.models import Customer as _Customer
    from kehu.customers.transfer import export_csv, import_file

    kept = _services.customer_create(actor=agent, kind="individual", name="周杰",
                                     phones=["13700001111"])
    buffer = _io.BytesIO()
    export_csv(buffer)
    edited = buffer.getvalue().decode("utf-8-sig").replace("周杰", "周杰伦")
    edited += "\n,K9999999,individual,新来的,,active,,,,,,,,,,,\n"
    report = import_file(name="edited.csv", data=edited.encode("utf-8"))
    assert report.written and report.updated == 1 and report.created == 1
    kept.refresh_from_db()
    assert kept.name == "周杰伦"
    assert _Customer.objects.count() == 2
    assert any("K9999999" in w["message"] for w in report.warnings)
    again = import_file(name="edited.csv", data=edited.encode("utf-8"))
    assert again.unchanged >= 1 and again.updated == 0


def chunked_file() -> bytes:
    """Blank lines, a cell with a line break and bad rows, across chunks of three rows."""
    lines = ["name,phones,preferences"]
    for i in range(14):
        if i in (2, 9):
            lines.append("")  # a blank line is a row number, never a row
        phone = "12345" if i in (4, 10) else f"138{i:04d}8000"
        preferences = '"靠窗,\n安静"' if i == 6 else "靠窗"
        lines.append(f"客户{i},{phone},{preferences}")
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.parametrize("workers", [True, False])
def test_rows_read_a_chunk_at_a_time_keep_their_row_numbers(monkeypatch, workers):
    monkeypatch.setattr(transfer, "CHUNK", 3)
    monkeypatch.setattr(transfer, "PARALLEL_MIN_BYTES", 0 if workers else 10**9)
    calls = []
    report = import_file(name="x.csv", data=chunked_file(), skip_invalid=True,
                         progress=lambda done, total: calls.append((done, total)))
    # Rows 2-4, blank 5, 6-7 …: the row after the cell with a line break is row 10.
    assert [r["row"] for r in report.rejected] == [7, 14]
    assert (report.total, report.created) == (14, 12)
    assert Customer.objects.get(name="客户6").preferences == "靠窗,\n安静"
    assert Customer.objects.get(name="客户7").changes.get().fields["row"] == 10
    assert calls[-1][0] == 16  # every record read, the blank ones too
    assert all(done <= total for done, total in calls)


def test_a_chunk_asked_for_again_is_read_from_the_start_of_the_file(monkeypatch):
    monkeypatch.setattr(transfer, "CHUNK", 3)

    def open_rows():
        return iter([["name"]] + [[f"客户{i}"] for i in range(7)])

    rows = open_rows()
    next(rows)
    reader = transfer._ChunkReader(open_rows, rows)
    first = reader.read(0)
    assert reader.read(2) == (1, [(8, ["客户6"])])
    assert reader.read(0) == first == (3, [(2, ["客户0"]), (3, ["客户1"]), (4, ["客户2"])])
    assert reader.read(3) == (0, [])


def test_a_file_of_blank_rows_has_no_data_rows():
    with pytest.raises(ImportFileError, match="no data rows"):
        import_file(name="x.csv", data=b"name,phones\n\n,\n\n")
    assert not Customer.objects.exists()


def test_new_rows_among_stored_ones_keep_their_own_phones_emails_and_tags(agent):
    header = ["external_id", "name", "phones", "emails", "tags"]
    import_file(name="x.csv", data=csv_bytes([header, ["S-1", "张伟", "13800138000", "", ""]]))
    rows = [header,
            ["N-1", "李娜", "13900139000; (021) 6234-5678", "li@example.com", "华东;大客户"],
            ["S-1", "张伟明", "13800138000", "zhang@example.com", "华东"],
            ["N-2", "王芳", "13700137000", "", "大客户;大客户"]]
    report = import_file(name="x.csv", data=csv_bytes(rows))
    assert (report.created, report.updated) == (2, 1)
    mine = {c.external_id: ({p.e164 for p in c.phones.all()}, {e.address for e in c.emails.all()},
                            {t.name for t in c.tags.all()})
            for c in Customer.objects.prefetch_related("phones", "emails", "tags")}
    assert mine == {
        "S-1": ({"+8613800138000"}, {"zhang@example.com"}, {"华东"}),
        "N-1": ({"+8613900139000", "+862162345678"}, {"li@example.com"}, {"华东", "大客户"}),
        "N-2": ({"+8613700137000"}, set(), {"大客户"}),
    }
    assert Customer.objects.get(external_id="S-1").name == "张伟明"
