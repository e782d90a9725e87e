"""Duplicates: warned about when created, merged without losing anything."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from kehu.customers import selectors, services
from kehu.customers.models import Address, Change, Contact, Customer, Email, Note, Phone


def person(actor, name="张伟明", **fields):
    return services.customer_create(actor=actor, kind="individual", name=name, **fields)


def org(actor, name="青岛海尔集团有限公司", **fields):
    return services.customer_create(actor=actor, kind="organisation", name=name, **fields)


# ---------------------------------------------------------------- duplicate warnings


def _create_form(**overrides) -> dict:
    return {
        "kind": "individual",
        "name": "张伟明",
        "status": "active",
        "phones": "",
        "emails": "",
        "addresses": "",
        "tags": "",
    } | overrides


@pytest.mark.parametrize(
    "field, written",
    [
        ("phones", "+86 138-0013-8000"),
        ("phones", "0086 13800138000"),
        ("emails", "ZHANG@Example.com"),
    ],
)
def test_create_page_warns_about_a_possible_duplicate_and_waits_for_confirmation(
    agent, agent_client, field, written
):
    existing = person(agent, phones=["138 0013 8000"], emails=["zhang@example.com"])
    url = reverse("customers:create")

    response = agent_client.post(url, _create_form(**{field: written}))
    assert response.status_code == 200
    assert "Possible duplicate" in response.content.decode()
    assert existing.number in response.content.decode()
    assert Customer.objects.count() == 1

    response = agent_client.post(url, _create_form(**{field: written}, confirm_duplicate="1"))
    assert response.status_code == 302
    assert Customer.objects.count() == 2
    new = Customer.objects.exclude(pk=existing.pk).get()
    assert response.url == reverse("customers:card", args=[new.pk])


def test_create_page_without_duplicates_creates_at_once(agent, agent_client):
    person(agent, phones=["138 0013 8000"])
    response = agent_client.post(
        reverse("customers:create"), _create_form(name="李娜", phones="139 0013 9000")
    )
    assert response.status_code == 302
    assert Customer.objects.filter(name="李娜").exists()


def test_merged_customers_are_not_offered_as_duplicates(agent, supervisor):
    survivor = person(agent, phones=["13800138000"])
    duplicate = person(agent, phones=["13800138000"])
    assert list(selectors.customer_duplicates_of(customer=survivor)) == [duplicate]
    services.customer_merge(actor=supervisor, survivor=survivor, duplicate=duplicate)
    assert list(selectors.customer_duplicates(e164s=["+8613800138000"], emails=[])) == [survivor]


def test_card_shows_possible_duplicates(agent, agent_client):
    first = person(agent, emails=["same@example.com"])
    second = person(agent, name="张伟民", emails=["same@example.com"])
    page = agent_client.get(reverse("customers:card", args=[first.pk])).content.decode()
    assert second.number in page


# ---------------------------------------------------------------- merge


@pytest.fixture
def pair(agent, manager):
    survivor = org(
        agent,
        name="海尔集团",
        phones=["(0532) 8893 9999", "138 0013 8000"],
        emails=["service@haier.example"],
        addresses=["青岛市崂山区海尔路1号"],
        tags=["VIP"],
        preferences="只接受上午来电",
    )
    services.contact_create(
        actor=agent, organisation=survivor, name="王建国", phones=["139 0013 9000"]
    )
    services.note_add(actor=agent, customer=survivor, body="第一次来电")

    duplicate = org(
        agent,
        name="青岛海尔集团有限公司",
        phones=["+86 138 0013 8000", "0532-8893 8888"],
        emails=["SERVICE@haier.example", "it@haier.example"],
        addresses=["青岛市市南区香港中路"],
        tags=["老客户"],
        salutation="海尔",
        industry="家电制造",
        owner=manager,
        preferences="喜欢微信沟通",
        external_id="ERP-HAIER",
    )
    services.contact_create(
        actor=agent,
        organisation=duplicate,
        name="李娜",
        phones=["137 0013 7000"],
        emails=["li.na@haier.example"],
    )
    services.note_add(actor=agent, customer=duplicate, body="投诉等待时间太长")
    services.customer_update(actor=agent, customer=duplicate, usual="上门安装")
    return survivor, duplicate


def test_merge_keeps_everything_of_both(supervisor, pair, manager):
    survivor, duplicate = pair
    changes_before = Change.objects.count()
    services.customer_merge(actor=supervisor, survivor=survivor, duplicate=duplicate)
    survivor.refresh_from_db()

    own_phones = set(survivor.phones.filter(contact=None).values_list("e164", flat=True))
    assert own_phones == {"+8653288939999", "+8613800138000", "+8653288938888"}
    assert set(survivor.emails.filter(contact=None).values_list("address", flat=True)) == {
        "service@haier.example",
        "it@haier.example",
    }
    assert set(survivor.addresses.values_list("text", flat=True)) == {
        "青岛市崂山区海尔路1号",
        "青岛市市南区香港中路",
    }
    assert set(survivor.contacts.values_list("name", flat=True)) == {"王建国", "李娜"}
    li = survivor.contacts.get(name="李娜")
    assert list(li.phones.values_list("e164", "customer")) == [("+8613700137000", survivor.pk)]
    assert list(li.emails.values_list("address", flat=True)) == ["li.na@haier.example"]
    assert set(survivor.notes.values_list("body", flat=True)) == {"第一次来电", "投诉等待时间太长"}
    assert set(survivor.tags.values_list("name", flat=True)) == {"VIP", "老客户"}
    # Empty fields are filled from the duplicate; free text of both is kept.
    assert (survivor.salutation, survivor.industry, survivor.owner, survivor.usual) == (
        "海尔",
        "家电制造",
        manager,
        "上门安装",
    )
    assert survivor.preferences == "只接受上午来电\n喜欢微信沟通"
    # The duplicate's own history now belongs to the survivor, plus one record each side.
    actions = list(survivor.changes.values_list("action", flat=True))
    assert actions.count("created") == 2
    assert "updated" in actions and "merged" in actions
    assert Change.objects.count() == changes_before + 2
    merged = survivor.changes.get(action="merged")
    assert merged.actor == supervisor
    assert merged.fields["merged"] == duplicate.number
    # Nothing is left behind on the duplicate but its tombstone record.
    for model in (Phone, Email, Address, Note, Contact):
        field = "organisation" if model is Contact else "customer"
        assert not model.objects.filter(**{field: duplicate}).exists(), model


def test_duplicate_becomes_a_tombstone_pointing_to_the_survivor(supervisor, pair):
    survivor, duplicate = pair
    services.customer_merge(actor=supervisor, survivor=survivor, duplicate=duplicate)
    duplicate.refresh_from_db()
    assert duplicate.merged_into == survivor
    assert duplicate.name == "青岛海尔集团有限公司" and duplicate.number
    tomb = duplicate.changes.get()
    assert (tomb.action, tomb.fields, tomb.actor) == (
        "merged_into",
        {"into": survivor.number},
        supervisor,
    )


@pytest.mark.parametrize("which", ["duplicate", "survivor"])
def test_merging_twice_is_refused(agent, supervisor, which):
    survivor, duplicate, third = person(agent), person(agent), person(agent)
    services.customer_merge(actor=supervisor, survivor=survivor, duplicate=duplicate)
    before = Change.objects.count()
    with pytest.raises(ValidationError):
        if which == "duplicate":
            services.customer_merge(actor=supervisor, survivor=third, duplicate=duplicate)
        else:
            services.customer_merge(actor=supervisor, survivor=duplicate, duplicate=third)
    assert Change.objects.count() == before
    third.refresh_from_db()
    assert third.merged_into is None


def test_merging_into_itself_is_refused(agent, supervisor):
    customer = person(agent)
    with pytest.raises(ValidationError, match="itself"):
        services.customer_merge(actor=supervisor, survivor=customer, duplicate=customer)
    customer.refresh_from_db()
    assert customer.merged_into is None


def test_organisation_with_contacts_cannot_fold_into_an_individual(agent, supervisor, pair):
    _survivor, duplicate = pair
    individual = person(agent)
    with pytest.raises(ValidationError):
        services.customer_merge(actor=supervisor, survivor=individual, duplicate=duplicate)
    assert duplicate.contacts.count() == 1
    assert Customer.objects.get(pk=duplicate.pk).merged_into is None


def test_merge_chain_still_leads_to_the_live_customer(agent, supervisor, agent_client):
    a, b, c = person(agent, name="甲"), person(agent, name="乙"), person(agent, name="丙")
    services.customer_merge(actor=supervisor, survivor=b, duplicate=c)
    services.customer_merge(actor=supervisor, survivor=a, duplicate=b)
    for old in (b, c):
        assert [h.customer.pk for h in selectors.customer_search(query=old.number).hits] == [a.pk]
    response = agent_client.get(reverse("customers:card", args=[c.pk]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("customers:card", args=[a.pk])


def test_merge_keeps_the_survivors_own_values(agent, supervisor):
    survivor = person(agent, salutation="张先生", birthday=datetime.date(1980, 1, 1))
    duplicate = person(agent, salutation="老张", birthday=datetime.date(1981, 2, 2))
    services.customer_merge(actor=supervisor, survivor=survivor, duplicate=duplicate)
    survivor.refresh_from_db()
    assert (survivor.salutation, survivor.birthday) == ("张先生", datetime.date(1980, 1, 1))


# ---------------------------------------------------------------- merge page


def test_merge_page_asks_for_confirmation_then_merges(agent, supervisor_client):
    survivor, duplicate = person(agent, phones=["13800138000"]), person(agent)
    url = reverse("customers:merge", args=[survivor.pk])

    page = supervisor_client.get(url, {"duplicate": duplicate.number})
    assert page.status_code == 200
    response = supervisor_client.post(url, {"duplicate": duplicate.number})
    assert response.status_code == 200
    assert "Yes, merge them" in response.content.decode()
    assert Customer.objects.get(pk=duplicate.pk).merged_into is None

    response = supervisor_client.post(url, {"duplicate": duplicate.number.lower(), "confirm": "1"})
    assert response.status_code == 302
    assert response.url == reverse("customers:card", args=[survivor.pk])
    assert Customer.objects.get(pk=duplicate.pk).merged_into_id == survivor.pk


def test_merge_page_explains_refusals(agent, supervisor_client):
    survivor = person(agent)
    url = reverse("customers:merge", args=[survivor.pk])
    response = supervisor_client.post(url, {"duplicate": "K9999999", "confirm": "1"})
    assert response.status_code == 200
    assert "No customer has this number" in response.content.decode()
    response = supervisor_client.post(url, {"duplicate": survivor.number, "confirm": "1"})
    assert response.status_code == 200
    assert "cannot be merged into itself" in response.content.decode()
    assert Customer.objects.get(pk=survivor.pk).merged_into is None


def test_agent_and_analyst_may_not_merge(agent, agent_client, analyst_client):
    survivor, duplicate = person(agent), person(agent)
    url = reverse("customers:merge", args=[survivor.pk])
    for client in (agent_client, analyst_client):
        assert client.get(url).status_code == 403
        response = client.post(url, {"duplicate": duplicate.number, "confirm": "1"})
        assert response.status_code == 403
    assert Customer.objects.get(pk=duplicate.pk).merged_into is None


def test_a_merged_customer_takes_no_new_contacts_or_notes(agent, supervisor, pair):
    survivor, duplicate = pair
    services.customer_merge(actor=supervisor, survivor=survivor, duplicate=duplicate)
    duplicate.refresh_from_db()
    with pytest.raises(ValidationError):
        services.contact_create(actor=agent, organisation=duplicate, name="赵六")
    with pytest.raises(ValidationError):
        services.note_add(actor=agent, customer=duplicate, body="迟到的笔记")
    assert not Contact.objects.filter(organisation=duplicate).exists()
    assert not Note.objects.filter(customer=duplicate).exists()
    hits = selectors.customer_search(query="青岛海尔集团有限公司").hits
    assert duplicate.pk not in {h.customer.pk for h in hits}


def test_history_page_shows_merges_and_two_character_names_whole(
    agent, supervisor, supervisor_client
):
    survivor = org(agent, name="海尔")
    services.contact_create(actor=agent, organisation=survivor, name="王总")
    duplicate = person(agent, name="张三")
    services.customer_merge(actor=supervisor, survivor=survivor, duplicate=duplicate)
    page = supervisor_client.get(reverse("customers:history", args=[survivor.pk]))
    text = page.content.decode()
    assert "张三" in text and "王总" in text and duplicate.number in text
    assert "张 → 三" not in text and "王 → 总" not in text
