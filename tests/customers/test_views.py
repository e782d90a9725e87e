"""Customer pages: login and roles, what the pages show, and a fixed number of queries."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from huey.contrib.djhuey import HUEY
from openpyxl import load_workbook

from kehu.customers import services, transfer
from kehu.customers.models import Change, Contact, Customer, ImportJob, Note
from kehu.customers.tasks import import_job_run
from kehu.customers.transfer import job_progress_key


@pytest.fixture
def zhang(agent):
    return services.customer_create(
        actor=agent,
        kind="individual",
        name="张伟明",
        salutation="张先生",
        usual="高钙牛奶",
        preferences="只接受上午来电",
        phones=["138 0013 8000"],
        emails=["zhang@example.com"],
    )


@pytest.fixture
def haier(agent):
    org = services.customer_create(
        actor=agent, kind="organisation", name="青岛海尔集团有限公司", phones=["0532 8893 9999"]
    )
    for i, (role, style) in enumerate(
        [
            ("decision", "eagle"),
            ("management", "owl"),
            ("operational", "dove"),
            ("operational", "peacock"),
            ("management", ""),
            ("decision", "owl"),
        ]
    ):
        contact = services.contact_create(
            actor=agent,
            organisation=org,
            name=f"联系人{i}",
            decision_role=role,
            style=style,
            phones=[f"139 0013 900{i}"],
            emails=[f"c{i}@haier.example"],
        )
        services.note_add(actor=agent, customer=org, body=f"拜访{i}", kind="visit", contact=contact)
    return org


@pytest.fixture
def data_dir(settings, tmp_path):
    """Uploads wait in a directory of the test's own."""
    settings.DATA_DIR = tmp_path
    return tmp_path


@pytest.fixture
def huey_immediate(data_dir):
    """Background tasks run at once, inside the request, on the test database."""
    from huey.contrib.djhuey import HUEY

    previous = HUEY.immediate
    HUEY.immediate = True
    yield HUEY
    HUEY.immediate = previous


@pytest.fixture
def huey_queue(data_dir):
    """A real queue, in memory: tasks wait until the test plays the worker."""
    from huey.contrib.djhuey import HUEY
    from huey.storage import MemoryStorage

    previous = HUEY.storage
    HUEY.storage = MemoryStorage(HUEY.name)
    yield HUEY
    HUEY.storage = previous


def page_urls(customer: Customer, contact: Contact | None = None) -> list[str]:
    urls = [
        reverse("customers:list"),
        reverse("customers:list") + "?q=张",
        reverse("customers:create"),
        reverse("customers:card", args=[customer.pk]),
        reverse("customers:edit", args=[customer.pk]),
        reverse("customers:history", args=[customer.pk]),
        reverse("customers:merge", args=[customer.pk]),
        reverse("customers:import"),
        reverse("customers:export"),
        reverse("customers:export") + "?format=xlsx",
        reverse("password_change"),
        reverse("api_tokens"),
    ]
    if contact:
        urls += [
            reverse("customers:contact_create", args=[contact.organisation_id]),
            reverse("customers:contact_edit", args=[contact.organisation_id, contact.pk]),
        ]
    return urls


# ---------------------------------------------------------------- login and roles


def test_every_page_requires_login(haier):
    contact = haier.contacts.first()
    anonymous = Client()
    login = reverse("login")
    for url in page_urls(haier, contact):
        response = anonymous.get(url)
        assert response.status_code == 302, url
        assert response.url.startswith(login + "?next="), url
    response = anonymous.post(reverse("customers:note_add", args=[haier.pk]), {"body": "x"})
    assert response.status_code == 302 and response.url.startswith(login)
    assert not Note.objects.filter(body="x").exists()


def test_login_page_and_health_check_are_open():
    assert Client().get(reverse("login")).status_code == 200
    assert Client().get("/healthz").status_code == 200


def test_admin_sees_every_page(admin_client, haier):
    for url in page_urls(haier, haier.contacts.first()):
        assert admin_client.get(url).status_code == 200, url


def test_analyst_reads_but_may_not_edit(analyst_client, haier):
    contact = haier.contacts.first()
    assert analyst_client.get(reverse("customers:list")).status_code == 200
    assert analyst_client.get(reverse("customers:card", args=[haier.pk])).status_code == 200
    assert analyst_client.get(reverse("customers:history", args=[haier.pk])).status_code == 200
    refused = [
        reverse("customers:create"),
        reverse("customers:edit", args=[haier.pk]),
        reverse("customers:contact_create", args=[haier.pk]),
        reverse("customers:contact_edit", args=[haier.pk, contact.pk]),
        reverse("customers:merge", args=[haier.pk]),
        reverse("customers:import"),
    ]
    for url in refused:
        assert analyst_client.get(url).status_code == 403, url
        assert analyst_client.post(url, {"name": "改名", "kind": "individual"}).status_code == 403
    response = analyst_client.post(
        reverse("customers:note_add", args=[haier.pk]), {"kind": "note", "body": "分析师的笔记"}
    )
    assert response.status_code == 403
    haier.refresh_from_db()
    assert haier.name == "青岛海尔集团有限公司"
    assert not Note.objects.filter(body="分析师的笔记").exists()
    assert Customer.objects.count() == 1


def test_agent_may_not_import_merge_or_export(agent_client, zhang):
    for url in (
        reverse("customers:import"),
        reverse("customers:merge", args=[zhang.pk]),
        reverse("customers:export"),
    ):
        assert agent_client.get(url).status_code == 403, url
    upload = SimpleUploadedFile("x.csv", "名称\n张三\n".encode())
    response = agent_client.post(reverse("customers:import"), {"what": "customers", "file": upload})
    assert response.status_code == 403
    assert not ImportJob.objects.exists()


def test_pages_hide_links_the_user_may_not_follow(agent_client, analyst_client, zhang):
    card = reverse("customers:card", args=[zhang.pk])
    agent_page = agent_client.get(card).content.decode()
    assert reverse("customers:edit", args=[zhang.pk]) in agent_page
    assert reverse("customers:merge", args=[zhang.pk]) not in agent_page
    assert reverse("customers:import") not in agent_page
    analyst_page = analyst_client.get(card).content.decode()
    assert reverse("customers:edit", args=[zhang.pk]) not in analyst_page
    assert reverse("customers:note_add", args=[zhang.pk]) not in analyst_page


# ---------------------------------------------------------------- what the pages show


def test_list_finds_by_chinese_substring_and_phone(agent_client, zhang, haier):
    url = reverse("customers:list")
    page = agent_client.get(url, {"q": "伟明"}).content.decode()
    assert zhang.number in page and haier.number not in page
    page = agent_client.get(url, {"q": "+86 138-0013-8000"}).content.decode()
    assert zhang.number in page
    partial = agent_client.get(url, {"q": "海尔"}, HTTP_HX_REQUEST="true")
    assert "<html" not in partial.content.decode()
    assert haier.number in partial.content.decode()
    assert "联系人0" in partial.content.decode()
    page = agent_client.get(url, {"q": "明张"}).content.decode()
    assert zhang.number not in page
    assert agent_client.get(url, {"page": "abc"}).status_code == 200


def test_list_pages(agent, agent_client):
    for i in range(30):
        services.customer_create(actor=agent, kind="individual", name=f"客户{i:02d}")
    first = agent_client.get(reverse("customers:list")).content.decode()
    assert "客户29" in first and "客户04" not in first
    assert 'rel="next"' in first
    second = agent_client.get(reverse("customers:list"), {"page": 2}).content.decode()
    assert "客户04" in second and "客户29" not in second
    assert 'rel="next"' not in second and 'rel="prev"' in second


def test_card_shows_preferences_and_how_to_address_on_the_first_screen(agent_client, zhang):
    page = agent_client.get(reverse("customers:card", args=[zhang.pk])).content.decode()
    for text in (
        "张伟明",
        "张先生",
        "高钙牛奶",
        "只接受上午来电",
        "138 0013 8000",
        "tel:+8613800138000",
        "zhang@example.com",
    ):
        assert text in page, text


def test_card_shows_contacts_with_roles_and_style_guidance(agent_client, haier):
    page = agent_client.get(reverse("customers:card", args=[haier.pk])).content.decode()
    for i in range(6):
        assert f"联系人{i}" in page
    assert "Decision layer" in page and "Operational layer" in page
    assert "needs about 7 contacts" in page
    assert "decides in about 2 contacts" in page
    assert "拜访0" in page


def test_card_of_a_merged_customer_leads_to_the_survivor(agent, supervisor, agent_client, zhang):
    duplicate = services.customer_create(actor=agent, kind="individual", name="张伟民")
    services.customer_merge(actor=supervisor, survivor=zhang, duplicate=duplicate)
    response = agent_client.get(reverse("customers:card", args=[duplicate.pk]))
    assert response.status_code == 302
    assert response.url == reverse("customers:card", args=[zhang.pk])
    assert agent_client.get(reverse("customers:edit", args=[duplicate.pk])).status_code == 404


def test_missing_customer_is_404(agent_client):
    assert agent_client.get(reverse("customers:card", args=[999999])).status_code == 404


def _customer_form(**overrides) -> dict:
    return {
        "kind": "individual",
        "name": "李娜",
        "status": "active",
        "phones": "",
        "emails": "",
        "addresses": "",
        "tags": "",
    } | overrides


def test_create_page_creates_and_shows_the_card(agent, agent_client):
    response = agent_client.post(
        reverse("customers:create"),
        _customer_form(
            phones="138 0013 8000\n(010) 6552-9988 ext. 12",
            emails="li@example.com",
            tags="VIP, 老客户",
            usual="美式咖啡，少冰",
        ),
    )
    customer = Customer.objects.get(name="李娜")
    assert response.status_code == 302
    assert response.url == reverse("customers:card", args=[customer.pk])
    assert customer.phones.count() == 2 and customer.tags.count() == 2
    assert Change.objects.get(customer=customer).actor == agent
    card = agent_client.get(response.url).content.decode()
    assert customer.number in card and "010 6552 9988 ext. 12" in card


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"name": ""}, "required"),
        ({"name": "<script>"}, "“&lt;” or “&gt;”"),
        ({"name": "张" * 201}, "at most 200"),
        ({"phones": "12345"}, "12345"),
        ({"emails": "not-an-email"}, "not-an-email"),
        ({"status": "lost"}, "Say why the customer was lost"),
        ({"tags": "标" * 51}, "50 characters"),
        ({"addresses": "路" * 301}, "300 characters"),
    ],
)
def test_create_page_shows_errors_and_writes_nothing(agent_client, overrides, message):
    response = agent_client.post(reverse("customers:create"), _customer_form(**overrides))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Customer.objects.exists()
    assert not Change.objects.exists()


def test_edit_page_saves_and_history_shows_who_changed_what(agent, agent_client, zhang):
    url = reverse("customers:edit", args=[zhang.pk])
    form = agent_client.get(url).content.decode()
    assert "138 0013 8000" in form and "zhang@example.com" in form
    response = agent_client.post(
        url,
        _customer_form(
            name="张伟明",
            usual="无糖豆浆",
            phones="138 0013 8000",
            emails="zhang@example.com",
            salutation="张先生",
            preferences="只接受上午来电",
        ),
    )
    assert response.status_code == 302
    zhang.refresh_from_db()
    assert zhang.usual == "无糖豆浆"
    change = Change.objects.get(customer=zhang, action="updated")
    assert set(change.fields) == {"usual"}
    history = agent_client.get(reverse("customers:history", args=[zhang.pk])).content.decode()
    assert "高钙牛奶" in history and "无糖豆浆" in history and "agent" in history


def test_edit_page_with_errors_changes_nothing(agent_client, zhang):
    response = agent_client.post(
        reverse("customers:edit", args=[zhang.pk]), _customer_form(name="张伟明", status="lost")
    )
    assert response.status_code == 200
    zhang.refresh_from_db()
    assert zhang.status == "active" and zhang.phones.count() == 1
    assert not Change.objects.filter(action="updated").exists()


def test_contact_pages(agent_client, haier, zhang):
    response = agent_client.post(
        reverse("customers:contact_create", args=[haier.pk]),
        {
            "name": "王建国",
            "title": "总经理",
            "decision_role": "decision",
            "style": "owl",
            "phones": "139 0013 9100",
            "emails": "",
        },
    )
    assert response.status_code == 302
    wang = haier.contacts.get(name="王建国")
    response = agent_client.post(
        reverse("customers:contact_edit", args=[haier.pk, wang.pk]),
        {
            "name": "王建国",
            "title": "董事长",
            "decision_role": "decision",
            "style": "owl",
            "phones": "139 0013 9100",
            "emails": "",
        },
    )
    assert response.status_code == 302
    wang.refresh_from_db()
    assert wang.title == "董事长"
    # A person is no organisation: the page says so and nothing is written.
    response = agent_client.post(
        reverse("customers:contact_create", args=[zhang.pk]),
        {"name": "张太太", "decision_role": "operational", "style": "", "phones": "", "emails": ""},
    )
    assert response.status_code == 200
    assert "Only organisations have contacts" in response.content.decode()
    assert not Contact.objects.filter(name="张太太").exists()
    # A contact is edited only through its own organisation.
    url = reverse("customers:contact_edit", args=[zhang.pk, wang.pk])
    assert agent_client.get(url).status_code == 404


def test_note_add_by_htmx_returns_the_timeline(agent, agent_client, zhang):
    url = reverse("customers:note_add", args=[zhang.pk])
    response = agent_client.post(
        url, {"kind": "call", "body": "客户来电咨询账单明细"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert "客户来电咨询账单明细" in response.content.decode()
    assert "<html" not in response.content.decode()
    note = Note.objects.get()
    assert (note.author, note.kind) == (agent, "call")
    assert agent_client.post(url, {"kind": "note", "body": "普通提交"}).status_code == 302
    assert agent_client.get(url).status_code == 405


# ---------------------------------------------------------------- no N+1


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(url).status_code == 200
    return len(context.captured_queries)


def _fill(agent, start, count, **extra):
    for i in range(start, start + count):
        customer = services.customer_create(
            actor=agent,
            kind="organisation" if i % 2 else "individual",
            name=f"测试客户{i}",
            phones=[f"138{i:08d}", f"139{i:08d}"],
            emails=[f"c{i}@example.com"],
            tags=["VIP"],
            **extra,
        )
        if i % 2:
            services.contact_create(actor=agent, organisation=customer, name=f"联系人{i}")


def test_customer_list_makes_a_fixed_number_of_queries(
    agent, manager, agent_client, django_assert_max_num_queries
):
    urls = [
        reverse("customers:list") + f"?q={query}" for query in ("", "测试", "example", "联系人")
    ]
    _fill(agent, 0, 3, owner=manager)
    few = [_queries(agent_client, url) for url in urls]
    _fill(agent, 3, 27, owner=manager)
    assert [_queries(agent_client, url) for url in urls] == few
    for url in urls:
        with django_assert_max_num_queries(12):
            response = agent_client.get(url)
        assert response.content.decode().count("测试客户") >= 15, url


def test_customer_card_makes_a_fixed_number_of_queries(
    agent, manager, agent_client, haier, django_assert_max_num_queries
):
    small = services.customer_create(
        actor=agent,
        kind="organisation",
        name="小公司",
        owner=manager,
        tags=["VIP"],
        addresses=["上海"],
        phones=["021 6666 8888"],
        emails=["small@example.com"],
    )
    services.contact_create(
        actor=agent,
        organisation=small,
        name="唯一联系人",
        style="owl",
        phones=["13700137000"],
        emails=["only@example.com"],
    )
    services.note_add(actor=agent, customer=small, body="一条笔记")
    services.customer_update(
        actor=agent,
        customer=haier,
        owner=manager,
        tags=["VIP", "老客户"],
        addresses=["青岛", "北京"],
    )
    few = _queries(agent_client, reverse("customers:card", args=[small.pk]))
    many = _queries(agent_client, reverse("customers:card", args=[haier.pk]))
    assert many == few
    # The card, its timeline, cases, promises (open, broken), follow-ups, loyalty, purchases,
    # satisfaction scores, and the lists of people the forms offer: each one query, however
    # much the customer has.
    with django_assert_max_num_queries(28):
        agent_client.get(reverse("customers:card", args=[haier.pk]))


def test_history_page_makes_a_fixed_number_of_queries(agent, supervisor, agent_client, zhang):
    services.customer_update(actor=supervisor, customer=zhang, usual="甲")
    few = _queries(agent_client, reverse("customers:history", args=[zhang.pk]))
    for i in range(10):
        services.customer_update(
            actor=agent if i % 2 else supervisor, customer=zhang, usual=f"第{i}次"
        )
    assert _queries(agent_client, reverse("customers:history", args=[zhang.pk])) == few


# ---------------------------------------------------------------- import and export pages


CSV = (
    "external_id,名称,电话,状态,流失原因\n"
    "W-1,张伟明,138 0013 8000,,\n"
    "W-2,李娜,0086 13700137000,,\n"
    "W-3,青岛海尔,(0532) 8893-9999,lost,price\n"
)


def _upload(client, data: bytes, name="customers.csv", **fields):
    return client.post(
        reverse("customers:import"),
        {"what": "customers", "encoding": "", "file": SimpleUploadedFile(name, data), **fields},
    )


def test_web_import_queues_a_job_that_ends_with_a_report(
    supervisor, supervisor_client, huey_immediate, data_dir
):
    assert supervisor_client.get(reverse("customers:import")).status_code == 200
    response = _upload(supervisor_client, CSV.encode("gb18030"))
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("customers:import_job", args=[job.pk])
    assert (job.created_by, job.what, job.file_name) == (supervisor, "customers", "customers.csv")
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE
    assert (job.report["created"], job.report["total"]) == (3, 3)
    assert set(Customer.objects.values_list("name", flat=True)) == {"李娜", "张伟明", "青岛海尔"}
    assert Change.objects.filter(action="imported", actor=supervisor).count() == 3
    assert not list((data_dir / "imports").glob("*"))  # the upload is cleaned up

    page = supervisor_client.get(response.url).content.decode()
    assert "Imported" in page and "Created: 3" in page
    partial = supervisor_client.get(response.url, HTTP_HX_REQUEST="true").content.decode()
    assert "Created: 3" in partial and "hx-trigger" not in partial
    listing = supervisor_client.get(reverse("customers:import")).content.decode()
    assert "customers.csv" in listing

    # The same file again changes nothing.
    _upload(supervisor_client, CSV.encode("gb18030"))
    again = ImportJob.objects.latest("id")
    assert (again.status, again.report["unchanged"], again.report["created"]) == ("done", 3, 0)


def test_web_import_waits_in_the_queue_until_a_worker_runs_it(supervisor_client, huey_queue):
    response = _upload(supervisor_client, CSV.encode())
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.QUEUED
    assert huey_queue.pending_count() == 1
    assert not Customer.objects.exists()
    waiting = supervisor_client.get(response.url, HTTP_HX_REQUEST="true").content.decode()
    assert "Waiting" in waiting and 'hx-trigger="every 1s"' in waiting

    # What the worker process does, less its closing of database connections (which
    # would close the test's transaction): the queued task's own function, run here.
    task = huey_queue.dequeue()
    assert task.args == (job.pk,)
    import_job_run.call_local(*task.args)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE
    assert Customer.objects.count() == 3
    done = supervisor_client.get(response.url, HTTP_HX_REQUEST="true").content.decode()
    assert "Created: 3" in done and "hx-trigger" not in done


def test_a_running_import_shows_its_rows_then_that_it_is_finishing(supervisor_client, huey_queue):
    response = _upload(supervisor_client, CSV.encode())
    job = ImportJob.objects.get()
    job.status = ImportJob.Status.RUNNING
    job.save()
    HUEY.put(job_progress_key(job.pk), (1000, 4000))
    page = supervisor_client.get(response.url, HTTP_HX_REQUEST="true").content.decode()
    assert "1000 of 4000 rows written (25%)" in page and "Finishing" not in page
    HUEY.put(job_progress_key(job.pk), (4000, 4000))
    page = supervisor_client.get(response.url, HTTP_HX_REQUEST="true").content.decode()
    assert "Finishing" in page and "rows written (" not in page
    assert 'hx-trigger="every 1s"' in page


def test_an_import_ends_its_progress_at_the_rows_it_read(db):
    calls = []
    data = 'name,preferences\n张三,"靠窗\n安静"\n\n李四,\n'.encode()  # 5 lines, 3 rows
    transfer.import_file(name="x.csv", data=data, progress=lambda *call: calls.append(call))
    assert calls[0] == (3, 4)  # against the file's lines at first
    assert calls[-1] == (3, 3)


def test_web_import_of_a_bad_file_reports_rows_and_writes_nothing(
    supervisor_client, huey_immediate
):
    bad = CSV + "W-4,<张>,12345,,\n"
    _upload(supervisor_client, bad.encode())
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.REJECTED
    assert not Customer.objects.exists()
    page = supervisor_client.get(reverse("customers:import_job", args=[job.pk])).content.decode()
    assert "Nothing was imported" in page
    assert "12345" in page and "<td>5</td>" in page

    _upload(supervisor_client, bad.encode(), skip_invalid="on")
    job = ImportJob.objects.latest("id")
    assert job.status == ImportJob.Status.DONE
    assert Customer.objects.count() == 3


def test_web_import_of_an_unreadable_file_says_why(supervisor_client, huey_immediate):
    _upload(supervisor_client, b"\x00\x01\x02garbage\xff" * 50)
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.REJECTED
    page = supervisor_client.get(reverse("customers:import_job", args=[job.pk])).content.decode()
    assert "UTF-8" in page


def test_web_import_refuses_other_file_types_before_queueing(supervisor_client, huey_immediate):
    response = _upload(supervisor_client, b"%PDF-1.4", name="customers.pdf")
    assert response.status_code == 200
    assert "Only CSV and Excel" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_import_jobs_are_private_to_their_uploader(supervisor_client, admin_client, huey_immediate):
    _upload(supervisor_client, CSV.encode())
    job = ImportJob.objects.get()
    url = reverse("customers:import_job", args=[job.pk])
    assert admin_client.get(url).status_code == 404


def test_export_downloads(agent, analyst_client, zhang):
    response = analyst_client.get(reverse("customers:export"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")
    assert "张伟明" in response.content.decode("utf-8-sig")
    gbk = analyst_client.get(reverse("customers:export"), {"encoding": "gb18030"})
    assert "张伟明" in gbk.content.decode("gb18030")
    xlsx = analyst_client.get(reverse("customers:export"), {"format": "xlsx"})
    sheet = load_workbook(io.BytesIO(xlsx.content)).worksheets[0]
    assert "张伟明" in [cell.value for cell in next(sheet.iter_rows(min_row=2))]
