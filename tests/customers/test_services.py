"""Writes to the customer archive: validation, history, and nothing half-written."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from kehu.customers import services
from kehu.customers.choices import STYLE_GUIDANCE, CommunicationStyle
from kehu.customers.models import (
    Address,
    Change,
    Contact,
    Customer,
    Email,
    Note,
    Phone,
    SearchEntry,
    Tag,
)

MODELS = (Customer, Contact, Phone, Email, Address, Change, Note, SearchEntry, Tag)


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


def individual(actor, name="张伟明", **fields):
    return services.customer_create(actor=actor, kind="individual", name=name, **fields)


def organisation(actor, name="海尔集团有限公司", **fields):
    return services.customer_create(actor=actor, kind="organisation", name=name, **fields)


# ---------------------------------------------------------------- create


def test_create_stores_everything_normalised(agent, manager):
    customer = individual(
        agent,
        salutation="张先生",
        birthday=datetime.date(1980, 5, 17),
        usual="高钙牛奶",
        preferences="只接受上午来电",
        owner=manager,
        phones=["138 0013 8000", "+86 138-0013-8000", "(010) 6552-9988 ext. 12"],
        emails=[" Zhang.Wei@Example.COM ", "zhang.wei@example.com"],
        addresses=["北京市朝阳区建国路 88 号", "  "],
        tags=["VIP", "老客户", "VIP"],
    )
    customer.refresh_from_db()
    assert customer.number.startswith("K") and len(customer.number) == 8
    assert customer.status == "active"
    assert customer.owner == manager
    assert sorted(customer.phones.values_list("e164", "extension")) == [
        ("+861065529988", "12"),
        ("+8613800138000", ""),
    ]
    assert customer.phones.get(extension="").label == "mobile"
    assert customer.phones.get(extension="12").label == "work"
    assert list(customer.emails.values_list("address", flat=True)) == ["zhang.wei@example.com"]
    assert list(customer.addresses.values_list("text", flat=True)) == ["北京市朝阳区建国路 88 号"]
    assert sorted(customer.tags.values_list("name", flat=True)) == ["VIP", "老客户"]


def test_customer_numbers_are_unique_and_sequential(agent):
    first = individual(agent, name="甲")
    second = individual(agent, name="乙")
    assert first.number != second.number
    assert int(second.number[1:]) == int(first.number[1:]) + 1


def test_create_records_who_created_it(agent):
    customer = individual(agent)
    change = Change.objects.get(customer=customer)
    assert change.action == "created"
    assert change.actor == agent


def test_create_strips_the_name_and_refuses_an_empty_one(agent):
    assert individual(agent, name="  李娜  ").name == "李娜"
    before = counts()
    with pytest.raises(ValidationError) as error:
        individual(agent, name="   ")
    assert "name" in error.value.message_dict
    assert counts() == before


def test_unknown_kind_is_refused(agent):
    with pytest.raises(ValidationError) as error:
        services.customer_create(actor=agent, kind="robot", name="R2")
    assert "kind" in error.value.message_dict


def test_unknown_field_names_are_a_programming_error(agent):
    with pytest.raises(TypeError):
        individual(agent, colour="red")


@pytest.mark.parametrize("name", ["<script>alert(1)</script>", "张<伟", "李>娜"])
def test_names_with_angle_brackets_are_refused(agent, name):
    before = counts()
    with pytest.raises(ValidationError) as error:
        individual(agent, name=name)
    assert "name" in error.value.message_dict
    assert counts() == before


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"name": "张" * 201}, "name"),
        ({"salutation": "先" * 101}, "salutation"),
        ({"industry": "x" * 101}, "industry"),
        ({"usual": "奶" * 201}, "usual"),
        ({"external_id": "e" * 101}, "external_id"),
        ({"addresses": ["路" * 301]}, "addresses"),
        ({"emails": ["a" * 250 + "@example.com"]}, "emails"),
        ({"tags": ["标" * 51]}, "tags"),
    ],
)
def test_over_long_fields_are_refused_with_nothing_written(agent, fields, field):
    individual(agent, name="已有客户")
    before = counts()
    kwargs = {"name": "张伟明"} | fields
    with pytest.raises(ValidationError) as error:
        individual(agent, **kwargs)
    assert field in error.value.message_dict
    assert counts() == before


def test_longest_allowed_values_are_kept_whole(agent):
    customer = individual(
        agent, name="张" * 200, usual="奶" * 200, tags=["标" * 50], addresses=["路" * 300]
    )
    customer.refresh_from_db()
    assert customer.name == "张" * 200
    assert customer.usual == "奶" * 200
    assert list(customer.tags.values_list("name", flat=True)) == ["标" * 50]
    assert customer.addresses.get().text == "路" * 300


def test_invalid_phone_or_email_is_refused_with_nothing_written(agent):
    before = counts()
    with pytest.raises(ValidationError) as error:
        individual(agent, phones=["138 0013 8000", "12345"])
    assert "12345" in " ".join(error.value.message_dict["phones"])
    with pytest.raises(ValidationError) as error:
        individual(agent, emails=["not-an-email"])
    assert "not-an-email" in " ".join(error.value.message_dict["emails"])
    assert counts() == before


def test_lost_status_requires_a_reason(agent):
    before = counts()
    with pytest.raises(ValidationError) as error:
        individual(agent, status="lost")
    assert "lost_reason" in error.value.message_dict
    assert counts() == before
    customer = individual(agent, status="lost", lost_reason="poor_service")
    assert customer.lost_reason == "poor_service"


def test_unknown_lost_reason_is_refused(agent):
    with pytest.raises(ValidationError) as error:
        individual(agent, status="lost", lost_reason="bored")
    assert "lost_reason" in error.value.message_dict


def test_a_reason_without_lost_status_is_dropped(agent):
    customer = individual(agent, status="active", lost_reason="price")
    assert customer.lost_reason == ""


def test_external_ids_are_unique_but_may_be_empty(agent):
    individual(agent, name="甲", external_id="ERP-1")
    individual(agent, name="乙", external_id="")
    individual(agent, name="丙", external_id="")
    assert Customer.objects.filter(external_id=None).count() == 2
    before = counts()
    with pytest.raises(ValidationError) as error:
        individual(agent, name="丁", external_id="ERP-1")
    assert "external_id" in error.value.message_dict
    assert counts() == before


# ---------------------------------------------------------------- update


def test_update_records_who_changed_which_fields_from_what_to_what(agent, supervisor):
    customer = individual(agent, usual="高钙牛奶", phones=["13800138000"])
    services.customer_update(
        actor=supervisor,
        customer=customer,
        name="张伟明（老客户）",
        usual="无糖豆浆",
        salutation="",
        phones=["13800138000", "139 0000 0000"],
    )
    change = Change.objects.filter(customer=customer, action="updated").get()
    assert change.actor == supervisor
    assert change.fields["name"] == ["张伟明", "张伟明（老客户）"]
    assert change.fields["usual"] == ["高钙牛奶", "无糖豆浆"]
    assert "salutation" not in change.fields  # unchanged: "" -> ""
    assert change.fields["phones"] == [["138 0013 8000"], ["138 0013 8000", "139 0000 0000"]]
    customer.refresh_from_db()
    assert customer.name == "张伟明（老客户）"


def test_update_with_dates_and_owner_records_readable_values(agent, manager):
    customer = individual(agent)
    services.customer_update(
        actor=agent, customer=customer, birthday=datetime.date(1990, 1, 2), owner=manager
    )
    change = Change.objects.get(customer=customer, action="updated")
    assert change.fields["birthday"] == [None, "1990-01-02"]
    assert change.fields["owner"] == [None, str(manager)]


def test_update_that_changes_nothing_writes_no_history(agent):
    customer = individual(agent, usual="高钙牛奶", phones=["13800138000"], tags=["VIP"])
    services.customer_update(
        actor=agent,
        customer=customer,
        usual="高钙牛奶",
        phones=["+86 138 0013 8000"],
        tags=["VIP"],
        emails=[],
        addresses=[],
    )
    assert not Change.objects.filter(customer=customer, action="updated").exists()


def test_update_replaces_lists(agent):
    customer = individual(
        agent, phones=["13800138000"], emails=["a@example.com"], tags=["VIP"], addresses=["上海"]
    )
    services.customer_update(
        actor=agent,
        customer=customer,
        phones=["13900139000"],
        emails=["b@example.com"],
        tags=["新客户"],
        addresses=["北京"],
    )
    assert list(customer.phones.values_list("e164", flat=True)) == ["+8613900139000"]
    assert list(customer.emails.values_list("address", flat=True)) == ["b@example.com"]
    assert list(customer.tags.values_list("name", flat=True)) == ["新客户"]
    assert list(customer.addresses.values_list("text", flat=True)) == ["北京"]
    change = Change.objects.get(customer=customer, action="updated")
    assert set(change.fields) == {"phones", "emails", "tags", "addresses"}


def test_update_leaves_lists_alone_when_not_given(agent):
    customer = individual(agent, phones=["13800138000"], emails=["a@example.com"])
    services.customer_update(actor=agent, customer=customer, usual="咖啡")
    assert customer.phones.count() == 1
    assert customer.emails.count() == 1


def test_setting_lost_needs_a_reason_and_changes_nothing_without_one(agent):
    customer = individual(agent)
    before = counts()
    with pytest.raises(ValidationError) as error:
        services.customer_update(actor=agent, customer=customer, status="lost")
    assert "lost_reason" in error.value.message_dict
    assert counts() == before
    customer.refresh_from_db()
    assert customer.status == "active"
    services.customer_update(actor=agent, customer=customer, status="lost", lost_reason="price")
    customer.refresh_from_db()
    assert (customer.status, customer.lost_reason) == ("lost", "price")


def test_winning_a_customer_back_clears_the_lost_reason(agent):
    customer = individual(agent, status="lost", lost_reason="price")
    services.customer_update(actor=agent, customer=customer, status="active")
    customer.refresh_from_db()
    assert customer.lost_reason == ""
    change = Change.objects.get(customer=customer, action="updated")
    assert change.fields["lost_reason"] == ["price", ""]


def test_update_refuses_bad_input_and_writes_nothing(agent):
    customer = individual(agent, phones=["13800138000"], addresses=["上海"])
    for bad in (
        {"name": "<b>张</b>"},
        {"usual": "奶" * 201},
        {"phones": ["not a phone"]},
        {"emails": ["@"]},
        {"addresses": ["路" * 301]},
        {"name": "新名字", "addresses": ["路" * 301]},  # a valid field with an invalid list
    ):
        before = counts()
        with pytest.raises(ValidationError):
            services.customer_update(actor=agent, customer=customer, **bad)
        assert counts() == before, bad
        customer.refresh_from_db()
        assert customer.name == "张伟明"
        assert list(customer.addresses.values_list("text", flat=True)) == ["上海"]


def test_merged_customer_cannot_change(agent, supervisor):
    survivor = individual(agent, name="甲")
    duplicate = individual(agent, name="乙")
    services.customer_merge(actor=supervisor, survivor=survivor, duplicate=duplicate)
    with pytest.raises(ValidationError):
        services.customer_update(actor=agent, customer=duplicate, name="丙")


# ---------------------------------------------------------------- contacts


def test_contacts_only_on_organisations(agent):
    person = individual(agent)
    before = counts()
    with pytest.raises(ValidationError, match="organisation"):
        services.contact_create(actor=agent, organisation=person, name="李娜")
    assert counts() == before


def test_contact_create_records_history_and_keeps_its_own_phones(agent):
    org = organisation(agent, phones=["010 6552 9988"])
    contact = services.contact_create(
        actor=agent,
        organisation=org,
        name="王总",
        title="总经理",
        decision_role="decision",
        style="eagle",
        phones=["139 0013 9000"],
        emails=["wang@haier.example"],
    )
    assert list(contact.phones.values_list("e164", flat=True)) == ["+8613900139000"]
    assert contact.phones.get().customer == org
    assert org.phones.filter(contact=None).count() == 1
    change = Change.objects.get(customer=org, action="contact_added")
    assert change.actor == agent
    assert change.fields == {"contact": "王总"}


def test_contact_validation_writes_nothing(agent):
    org = organisation(agent)
    for bad in (
        {"name": "王<总>"},
        {"name": ""},
        {"name": "王" * 101},
        {"name": "王总", "title": "总" * 101},
        {"name": "王总", "decision_role": "boss"},
        {"name": "王总", "style": "tiger"},
        {"name": "王总", "phones": ["0"]},
    ):
        before = counts()
        with pytest.raises(ValidationError):
            services.contact_create(actor=agent, organisation=org, **bad)
        assert counts() == before, bad


def test_contact_update_records_the_diff(agent, supervisor):
    org = organisation(agent)
    contact = services.contact_create(actor=agent, organisation=org, name="王总", style="")
    services.contact_update(actor=supervisor, contact=contact, style="owl", title="财务总监")
    change = Change.objects.get(customer=org, action="contact_updated")
    assert change.actor == supervisor
    assert change.fields["contact"] == "王总"
    assert change.fields["style"] == ["", "owl"]
    assert change.fields["title"] == ["", "财务总监"]


def test_contact_update_without_changes_writes_no_history(agent):
    org = organisation(agent)
    contact = services.contact_create(
        actor=agent, organisation=org, name="王总", phones=["13900139000"]
    )
    services.contact_update(actor=agent, contact=contact, name="王总", phones=["139 0013 9000"])
    assert not Change.objects.filter(action="contact_updated").exists()


def test_every_style_has_guidance_and_the_contact_shows_it(agent):
    owl = STYLE_GUIDANCE[CommunicationStyle.OWL]
    eagle = STYLE_GUIDANCE[CommunicationStyle.EAGLE]
    assert "7 contacts" in str(owl)
    assert "2 contacts" in str(eagle)
    for style in ("eagle", "peacock", "dove", "owl"):
        assert str(STYLE_GUIDANCE[style])
    org = organisation(agent)
    contact = services.contact_create(actor=agent, organisation=org, name="陈工", style="owl")
    assert contact.style_guidance == owl
    unknown = services.contact_create(actor=agent, organisation=org, name="刘工")
    assert unknown.style_guidance == ""


# ---------------------------------------------------------------- notes


def test_note_add_keeps_author_and_kind(agent):
    customer = individual(agent)
    note = services.note_add(
        actor=agent, customer=customer, body="  客户来电咨询账单。 ", kind="call"
    )
    note.refresh_from_db()
    assert (note.body, note.kind, note.author) == ("客户来电咨询账单。", "call", agent)


def test_empty_or_unknown_notes_are_refused(agent):
    customer = individual(agent)
    with pytest.raises(ValidationError):
        services.note_add(actor=agent, customer=customer, body="   ")
    with pytest.raises(ValidationError):
        services.note_add(actor=agent, customer=customer, body="hi", kind="fax")
    assert not Note.objects.exists()


def test_an_organisation_with_contacts_cannot_become_an_individual(agent):
    org = organisation(agent)
    services.contact_create(actor=agent, organisation=org, name="王总")
    before = counts()
    with pytest.raises(ValidationError) as error:
        services.customer_update(actor=agent, customer=org, kind="individual")
    assert "kind" in error.value.message_dict
    assert counts() == before
    org.refresh_from_db()
    assert org.kind == "organisation"
    empty = organisation(agent, name="空壳公司")
    services.customer_update(actor=agent, customer=empty, kind="individual")
    empty.refresh_from_db()
    assert empty.kind == "individual"
