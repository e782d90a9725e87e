"""The REST API: bearer tokens, roles, customers and contacts, validation, the schema."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kehu.customers import services
from kehu.customers.models import Change, Contact, Customer, Email, Phone
from kehu.users.models import ApiToken
from tests.conftest import bearer

API = "/api"


def counts() -> dict[str, int]:
    return {m.__name__: m.objects.count() for m in (Customer, Contact, Phone, Email, Change)}


@pytest.fixture
def api(agent):
    """A client calling as the agent, with a bearer token and no session."""
    client = Client(enforce_csrf_checks=True)
    client.defaults.update(bearer(agent))
    return client


@pytest.fixture
def zhang(agent):
    return services.customer_create(
        actor=agent,
        kind="individual",
        name="张伟明",
        phones=["138 0013 8000"],
        emails=["zhang@example.com"],
        tags=["VIP"],
    )


@pytest.fixture
def haier(agent):
    org = services.customer_create(
        actor=agent, kind="organisation", name="青岛海尔集团有限公司", phones=["0532 8893 9999"]
    )
    services.contact_create(
        actor=agent,
        organisation=org,
        name="王建国",
        style="owl",
        decision_role="decision",
        phones=["139 0013 9000"],
    )
    return org


def post(client, url, data):
    return client.post(url, data, content_type="application/json")


def patch(client, url, data):
    return client.patch(url, data, content_type="application/json")


# ---------------------------------------------------------------- authentication


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HTTP_AUTHORIZATION": "Bearer kehu_wrong"},
        {"HTTP_AUTHORIZATION": "Bearer "},
        {"HTTP_AUTHORIZATION": "Basic YWdlbnQ6eA=="},
        {"HTTP_AUTHORIZATION": "kehu_wrong"},
    ],
)
def test_no_or_wrong_token_is_401(zhang, headers):
    client = Client()
    for response in (
        client.get(f"{API}/customers", **headers),
        client.get(f"{API}/customers/{zhang.pk}", **headers),
        post(client, f"{API}/customers", {"kind": "individual", "name": "李娜"})
        if not headers
        else client.post(
            f"{API}/customers",
            {"kind": "individual", "name": "李娜"},
            content_type="application/json",
            **headers,
        ),
    ):
        assert response.status_code == 401
        assert response.json() == {"detail": "Authentication required."}
    assert Customer.objects.count() == 1


def test_token_of_a_deactivated_user_or_a_revoked_token_is_401(agent, zhang):
    headers = bearer(agent)
    assert Client().get(f"{API}/customers", **headers).status_code == 200
    agent.is_active = False
    agent.save()
    assert Client().get(f"{API}/customers", **headers).status_code == 401
    agent.is_active = True
    agent.save()
    ApiToken.objects.all().delete()
    assert Client().get(f"{API}/customers", **headers).status_code == 401


def test_token_use_is_recorded(api, agent):
    api.get(f"{API}/customers")
    assert ApiToken.objects.get(user=agent).last_used_at is not None


def test_signed_in_session_works_too(agent_client, zhang):
    assert agent_client.get(f"{API}/customers/{zhang.pk}").json()["name"] == "张伟明"


def test_session_writes_need_the_csrf_token(agent):
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent)
    response = post(client, f"{API}/customers", {"kind": "individual", "name": "李娜"})
    assert response.status_code in (401, 403)
    assert not Customer.objects.exists()


# ---------------------------------------------------------------- roles


def test_analyst_reads_but_may_not_write(analyst, zhang, haier):
    client = Client()
    client.defaults.update(bearer(analyst))
    assert client.get(f"{API}/customers").status_code == 200
    assert client.get(f"{API}/customers/{zhang.pk}").status_code == 200
    contact = haier.contacts.get()
    before = counts()
    for response in (
        post(client, f"{API}/customers", {"kind": "individual", "name": "李娜"}),
        patch(client, f"{API}/customers/{zhang.pk}", {"name": "改名"}),
        post(client, f"{API}/customers/{haier.pk}/contacts", {"name": "李娜"}),
        patch(client, f"{API}/contacts/{contact.pk}", {"title": "董事长"}),
    ):
        assert response.status_code == 403
        assert "permission" in response.json()["detail"]
    assert counts() == before
    zhang.refresh_from_db()
    assert zhang.name == "张伟明"


# ---------------------------------------------------------------- customers


def test_list_and_search(api, zhang, haier):
    response = api.get(f"{API}/customers")
    assert response.status_code == 200
    body = response.json()
    assert {item["customer"]["number"] for item in body["items"]} == {zhang.number, haier.number}
    assert (body["page"], body["has_next"]) == (1, False)

    found = api.get(f"{API}/customers", {"q": "+86 138-0013-8000"}).json()["items"]
    assert [(i["customer"]["id"], i["matched_by"]) for i in found] == [(zhang.pk, "phone")]
    found = api.get(f"{API}/customers", {"q": "伟明"}).json()["items"]
    assert [i["customer"]["id"] for i in found] == [zhang.pk]
    found = api.get(f"{API}/customers", {"q": "王建国"}).json()["items"]
    assert [(i["customer"]["id"], i["contact_name"]) for i in found] == [(haier.pk, "王建国")]
    assert api.get(f"{API}/customers", {"q": "明张"}).json()["items"] == []


def test_list_pages(api, agent):
    for i in range(27):
        services.customer_create(actor=agent, kind="individual", name=f"客户{i}")
    first = api.get(f"{API}/customers").json()
    second = api.get(f"{API}/customers", {"page": 2}).json()
    assert (len(first["items"]), first["has_next"]) == (25, True)
    assert (len(second["items"]), second["has_next"]) == (2, False)


def test_read_customer_with_contacts(api, haier):
    body = api.get(f"{API}/customers/{haier.pk}").json()
    assert body["number"] == haier.number
    assert body["kind"] == "organisation"
    assert body["phones"] == [
        {"e164": "+8653288939999", "extension": "", "display": "0532 8893 9999"}
    ]
    (contact,) = body["contacts"]
    assert (contact["name"], contact["decision_role"], contact["style"]) == (
        "王建国",
        "decision",
        "owl",
    )
    assert "7 contacts" in contact["style_guidance"]
    assert [p["e164"] for p in contact["phones"]] == ["+8613900139000"]


def test_read_missing_customer_is_404(api):
    assert api.get(f"{API}/customers/999999").status_code == 404


def test_create_customer(api, agent, manager):
    response = post(
        api,
        f"{API}/customers",
        {
            "kind": "individual",
            "name": "李娜",
            "salutation": "李女士",
            "birthday": "1990-01-02",
            "owner": "manager",
            "usual": "美式咖啡，少冰",
            "tags": ["VIP"],
            "phones": ["0086 13700137000", "(010) 6552-9988 ext. 12"],
            "emails": ["LI.NA@example.com"],
            "addresses": ["上海"],
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    customer = Customer.objects.get(pk=body["id"])
    assert (customer.name, customer.owner, str(customer.birthday)) == (
        "李娜",
        manager,
        "1990-01-02",
    )
    assert body["owner"] == "manager"
    assert body["emails"] == ["li.na@example.com"]
    assert {p["display"] for p in body["phones"]} == {"137 0013 7000", "010 6552 9988 ext. 12"}
    assert body["contacts"] == []
    assert Change.objects.get(customer=customer).actor == agent


def test_update_customer_records_the_change(api, agent, zhang):
    response = patch(
        api,
        f"{API}/customers/{zhang.pk}",
        {"usual": "高钙牛奶", "status": "lost", "lost_reason": "price"},
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["usual"], body["status"], body["lost_reason"]) == ("高钙牛奶", "lost", "price")
    assert body["name"] == "张伟明" and body["tags"] == ["VIP"]  # untouched fields stay
    assert len(body["phones"]) == 1
    change = Change.objects.get(customer=zhang, action="updated")
    assert change.actor == agent
    assert set(change.fields) == {"usual", "status", "lost_reason"}


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"kind": "individual", "name": "<b>李娜</b>"}, "name"),
        ({"kind": "individual", "name": "李娜", "phones": ["12345"]}, "phones"),
        ({"kind": "individual", "name": "李娜", "emails": ["li.na"]}, "emails"),
        ({"kind": "individual", "name": "李娜", "status": "lost"}, "lost_reason"),
        ({"kind": "individual", "name": "李娜", "salutation": "李" * 101}, "salutation"),
        ({"kind": "individual", "name": "李娜", "addresses": ["路" * 301]}, "addresses"),
        ({"kind": "individual", "name": "李娜", "tags": ["标" * 51]}, "tags"),
        ({"kind": "individual", "name": "李娜", "owner": "nobody"}, "owner"),
        ({"kind": "individual", "name": "李" * 201}, "name"),
        ({"kind": "robot", "name": "李娜"}, "kind"),
        ({"kind": "individual", "name": "李娜", "birthday": "1990-13-45"}, "birthday"),
        ({"kind": "individual"}, "name"),
        ({"kind": "individual", "name": "李娜", "phones": "13700137000"}, "phones"),
    ],
)
def test_create_with_bad_input_is_422_with_field_messages_and_writes_nothing(
    api, zhang, payload, field
):
    before = counts()
    response = post(api, f"{API}/customers", payload)
    assert response.status_code == 422, response.json()
    assert field in str(response.json()["detail"])
    assert counts() == before


def test_update_with_bad_input_is_422_and_changes_nothing(api, zhang):
    before = counts()
    for payload, field in (
        ({"name": "<b>"}, "name"),
        ({"phones": ["0"]}, "phones"),
        ({"status": "lost"}, "lost_reason"),
        ({"usual": "奶" * 201}, "usual"),
        ({"owner": "nobody"}, "owner"),
    ):
        response = patch(api, f"{API}/customers/{zhang.pk}", payload)
        assert response.status_code == 422, (payload, response.json())
        assert field in str(response.json()["detail"])
    assert counts() == before
    zhang.refresh_from_db()
    assert (zhang.name, zhang.status) == ("张伟明", "active")


def test_json_that_is_not_an_object_is_refused(api):
    response = api.post(f"{API}/customers", "not json", content_type="application/json")
    assert 400 <= response.status_code < 500
    assert not Customer.objects.exists()


def test_merged_customer_cannot_be_updated(api, agent, supervisor, zhang):
    survivor = services.customer_create(actor=agent, kind="individual", name="张伟明")
    services.customer_merge(actor=supervisor, survivor=survivor, duplicate=zhang)
    body = api.get(f"{API}/customers/{zhang.pk}").json()
    assert body["merged_into"] == survivor.number
    response = patch(api, f"{API}/customers/{zhang.pk}", {"usual": "咖啡"})
    assert response.status_code == 422


# ---------------------------------------------------------------- contacts


def test_contacts_list_create_read_update(api, agent, haier):
    listed = api.get(f"{API}/customers/{haier.pk}/contacts").json()
    assert [c["name"] for c in listed] == ["王建国"]

    response = post(
        api,
        f"{API}/customers/{haier.pk}/contacts",
        {
            "name": "李娜",
            "title": "采购经理",
            "decision_role": "management",
            "style": "dove",
            "phones": ["137 0013 7000"],
            "emails": ["li@haier.example"],
        },
    )
    assert response.status_code == 201, response.json()
    created = response.json()
    assert created["organisation_id"] == haier.pk
    assert created["phones"][0]["display"] == "137 0013 7000"
    assert "trust" in created["style_guidance"]

    contact_id = created["id"]
    assert api.get(f"{API}/contacts/{contact_id}").json()["title"] == "采购经理"
    response = patch(api, f"{API}/contacts/{contact_id}", {"title": "采购总监"})
    assert response.status_code == 200, response.json()
    assert response.json()["title"] == "采购总监"
    assert response.json()["emails"] == ["li@haier.example"]
    change = Change.objects.get(action="contact_updated")
    assert (change.actor, change.fields["title"]) == (agent, ["采购经理", "采购总监"])


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"name": "<李>"}, "name"),
        ({"name": ""}, "name"),
        ({"name": "李" * 101}, "name"),
        ({"name": "李娜", "style": "tiger"}, "style"),
        ({"name": "李娜", "phones": ["1"]}, "phones"),
        ({"name": "李娜", "title": "总" * 101}, "title"),
    ],
)
def test_contact_with_bad_input_is_422_and_writes_nothing(api, haier, payload, field):
    before = counts()
    response = post(api, f"{API}/customers/{haier.pk}/contacts", payload)
    assert response.status_code == 422, response.json()
    assert field in str(response.json()["detail"])
    assert counts() == before


def test_no_contacts_for_a_merged_organisation(api, agent, supervisor, haier):
    survivor = services.customer_create(actor=agent, kind="organisation", name="海尔集团")
    services.customer_merge(actor=supervisor, survivor=survivor, duplicate=haier)
    response = post(api, f"{API}/customers/{haier.pk}/contacts", {"name": "赵六"})
    assert response.status_code == 422
    assert not Contact.objects.filter(name="赵六").exists()
    found = api.get(f"{API}/customers", {"q": "青岛海尔"}).json()["items"]
    assert found == []


def test_contacts_only_for_organisations(api, zhang):
    response = post(api, f"{API}/customers/{zhang.pk}/contacts", {"name": "张太太"})
    assert response.status_code == 422
    assert "organisations" in str(response.json()["detail"])
    assert not Contact.objects.exists()


def test_missing_contact_or_organisation_is_404(api):
    assert api.get(f"{API}/contacts/999999").status_code == 404
    assert post(api, f"{API}/customers/999999/contacts", {"name": "李娜"}).status_code == 404
    assert patch(api, f"{API}/contacts/999999", {"name": "李娜"}).status_code == 404


# ---------------------------------------------------------------- schema


def test_openapi_schema_requires_login_and_lists_the_endpoints(agent_client):
    anonymous = Client().get(f"{API}/openapi.json")
    assert anonymous.status_code == 302
    assert anonymous.url.startswith("/accounts/login/")
    assert Client().get(f"{API}/docs").status_code == 302

    schema = agent_client.get(f"{API}/openapi.json").json()
    paths = schema["paths"]
    assert set(paths["/api/customers"]) == {"get", "post"}
    assert set(paths["/api/customers/{customer_id}"]) == {"get", "patch"}
    assert set(paths["/api/customers/{customer_id}/contacts"]) == {"get", "post"}
    assert set(paths["/api/contacts/{contact_id}"]) == {"get", "patch"}
    assert "bearer" in str(schema["components"]["securitySchemes"]).lower()
    assert agent_client.get(f"{API}/docs").status_code == 200


def test_list_makes_a_fixed_number_of_queries(api, agent, django_assert_max_num_queries):
    def fill(start, count):
        for i in range(start, start + count):
            org = services.customer_create(
                actor=agent,
                kind="organisation",
                name=f"公司{i}",
                phones=[f"138{i:08d}"],
                emails=[f"c{i}@example.com"],
                tags=["VIP"],
                addresses=["北京"],
            )
            services.contact_create(actor=agent, organisation=org, name=f"联系人{i}")

    fill(0, 2)
    with CaptureQueriesContext(connection) as few:
        assert len(api.get(f"{API}/customers", {"q": "公司"}).json()["items"]) == 4
    fill(2, 23)
    with django_assert_max_num_queries(len(few)):
        assert len(api.get(f"{API}/customers", {"q": "公司"}).json()["items"]) == 25
