"""Who is calling: the caller's number in whatever form the telephony system writes it,
matched through the phone index to customers and organisation contacts."""

import html
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kehu.customers import services as customer_services
from kehu.customers.models import Note, Phone
from kehu.customers.phones import phone_parse
from kehu.telephony.models import Call
from kehu.telephony.selectors import caller_matches
from tests.telephony.conftest import post_event

ZHANG_FORMS = [
    "+86 138 0013 8000",
    "0086-138-0013-8000",
    "13800138000",
    "8613800138000",
    "+8613800138000",
    "138.0013.8000",
    "138/0013/8000",
    "(138) 0013-8000",
    "+86 (138) 0013 8000",
    " 138 0013 8000 ",
]
SWITCHBOARD_FORMS = [
    "(010) 6552-9988 ext. 12",
    "010-65529988",
    "01065529988",
    "+86 10 6552 9988",
    "0086 10 6552 9988",
    "010.6552.9988",
    "010/6552/9988",
    "010-6552 9988 转 12",
    "+86-10-65529988 x 3",
]
CONTACT_FORMS = ["+86 139-1000-2000", "0086 13910002000", "(139) 1000 2000", "139.1000.2000"]


def ring(client, token, number: str, call_id: str = "c", **extra) -> Call:
    response = post_event(
        client,
        token,
        event="newCall",
        callId=call_id,
        from_=number,
        to="4008001234",
        direction="in",
        **extra,
    )
    assert response.status_code == 200, response.content
    return Call.objects.get(call_id=call_id)


@pytest.mark.parametrize("number", ZHANG_FORMS)
def test_every_written_form_of_a_mobile_finds_the_customer(webhook, cti_token, zhang, xihu, number):
    call = ring(webhook, cti_token, number)
    assert (call.customer, call.contact, call.match_count) == (zhang, None, 1)
    assert call.number_e164 == "+8613800138000"
    assert [m.customer for m in caller_matches(e164=call.number_e164)] == [zhang]


@pytest.mark.parametrize("number", SWITCHBOARD_FORMS)
def test_area_codes_trunk_zero_and_extensions_find_the_organisation(
    webhook, cti_token, zhang, xihu, number
):
    call = ring(webhook, cti_token, number)
    assert (call.customer, call.contact, call.match_count) == (xihu, None, 1)
    assert call.number_e164 == "+861065529988"


@pytest.mark.parametrize("number", CONTACT_FORMS)
def test_a_contacts_own_number_finds_the_contact_at_the_organisation(
    webhook, cti_token, zhang, xihu, number
):
    call = ring(webhook, cti_token, number)
    wang = xihu.contacts.get(name="王建国")
    assert (call.customer, call.contact, call.match_count) == (xihu, wang, 1)


def test_numbers_abroad_match_through_the_international_prefix(webhook, cti_token, agent):
    google = customer_services.customer_create(
        actor=agent, kind="organisation", name="Google", phones=["+1 650-253-0000"]
    )
    assert ring(webhook, cti_token, "001 650 253 0000", "a").customer == google
    assert ring(webhook, cti_token, "+16502530000", "b").customer == google
    # The same digits read as a Chinese number are someone else.
    assert ring(webhook, cti_token, "6502530000", "c").customer is None


@pytest.mark.parametrize(
    "number",
    [
        "anonymous",
        "",
        "unknown",
        "+",
        "Anonymous",
        "withheld",
        "private",
        "0",
        "12",
        "sip:anonymous@pbx",
    ],
)
def test_a_withheld_or_non_number_matches_nobody(
    webhook, cti_token, agent, agent_client, zhang, number
):
    call = ring(webhook, cti_token, number, user=["agent"])
    assert (call.customer, call.contact, call.match_count, call.number_e164) == (None, None, 0, "")
    assert call.number_raw == number
    page = html.unescape(agent_client.get("/calls/probe/?current=").content.decode())
    assert "The caller's number is withheld or not a number." in page
    # Still a way to create the customer, without a number to fill in.
    assert 'href="/customers/new/"' in page
    assert "?phone=" not in page


def test_a_call_without_any_from_field_is_withheld(webhook, cti_token, agent):
    response = post_event(webhook, cti_token, event="newCall", callId="nofrom", direction="in")
    assert response.status_code == 200
    call = Call.objects.get()
    assert (call.number_raw, call.number_e164, call.customer) == ("", "", None)
    assert call.number_display == "Number withheld"


# ---------------------------------------------------------------- several matches


@pytest.fixture
def sharing(agent):
    """Two customers (a couple) sharing a landline, contacted at different times."""
    older = customer_services.customer_create(
        actor=agent, kind="individual", name="李娜", phones=["0571 8888 6666"]
    )
    newer = customer_services.customer_create(
        actor=agent, kind="individual", name="王强", phones=["0571-88886666"]
    )
    never = customer_services.customer_create(
        actor=agent, kind="individual", name="王小明", phones=["+86 571 8888 6666"]
    )
    now = timezone.now()
    note = customer_services.note_add(actor=agent, customer=older, body="来电咨询", kind="call")
    Note.objects.filter(pk=note.pk).update(created_at=now - timedelta(days=30))
    Call.objects.create(
        call_id="old",
        customer=newer,
        number_e164="+8657188886666",
        started_at=now - timedelta(days=2),
        state="ended",
    )
    return older, newer, never


def test_several_matches_are_all_listed_most_recent_contact_first(
    webhook, cti_token, sharing, agent, agent_client
):
    older, newer, never = sharing
    matches = caller_matches(e164=phone_parse("0571 8888 6666").e164)
    assert [m.customer for m in matches] == [newer, older, never]
    assert matches[2].last_contact_at is None

    call = ring(webhook, cti_token, "+86 571 8888 6666", user=["agent"])
    assert (call.customer, call.match_count) == (None, 3)
    page = agent_client.get("/calls/probe/?current=").content.decode()
    assert "3 customers have this number:" in page
    positions = [page.index(c.name) for c in (newer, older, never)]
    assert positions == sorted(positions)

    # A later contact with the older customer puts her first.
    customer_services.note_add(actor=agent, customer=older, body="回访", kind="call")
    assert [m.customer for m in caller_matches(e164="+8657188886666")][:2] == [older, newer]


def test_the_agent_says_which_of_several_is_calling(
    webhook, cti_token, sharing, agent, agent_client
):
    older, _newer, _never = sharing
    call = ring(webhook, cti_token, "057188886666", user=["agent"])
    response = agent_client.post(f"/calls/{call.pk}/identify/", {"customer": older.pk})
    assert response.status_code == 200
    call.refresh_from_db()
    assert call.customer == older
    assert "李娜" in response.content.decode() and "Log call" in response.content.decode()


def test_contact_of_an_organisation_greets_the_contact(
    webhook, cti_token, xihu, agent, agent_client
):
    ring(webhook, cti_token, "+86 139 1000 2000", user=["agent"])
    page = agent_client.get("/calls/probe/?current=").content.decode()
    assert '<strong class="caller-name">王总</strong>' in page
    assert "杭州西湖茶业有限公司" in page
    assert "采购总监" in page
    assert "Decision layer" in page
    assert "Eagle" in page
    assert "lead with results and options; decides in about 2 contacts." in page


def test_a_merged_customers_number_finds_the_survivor(webhook, cti_token, zhang, agent):
    duplicate = customer_services.customer_create(
        actor=agent, kind="individual", name="张伟明", phones=["139 0000 1111"]
    )
    customer_services.customer_merge(actor=agent, survivor=zhang, duplicate=duplicate)
    call = ring(webhook, cti_token, "0086 139 0000 1111")
    assert (call.customer, call.match_count) == (zhang, 1)


def test_a_number_on_a_customer_and_a_tombstone_is_one_match(agent, zhang):
    """Even a phone row left on a merged-away customer leads to the survivor, once."""
    duplicate = customer_services.customer_create(actor=agent, kind="individual", name="张伟明")
    customer_services.customer_merge(actor=agent, survivor=zhang, duplicate=duplicate)
    Phone.objects.create(customer=duplicate, e164="+8613800138000")
    assert [m.customer for m in caller_matches(e164="+8613800138000")] == [zhang]


# ---------------------------------------------------------------- the index


def test_matching_costs_a_few_queries_however_many_match(
    agent, xihu, sharing, django_assert_max_num_queries
):
    def queries(e164: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            caller_matches(e164=e164)
        return len(captured)

    one = queries("+861065529988")
    three = queries("+8657188886666")
    none = queries("+8613700000000")
    for i in range(6):  # many contacts of one organisation on the same switchboard
        customer_services.contact_create(
            actor=agent, organisation=xihu, name=f"前台{i}", phones=["010 6552 9988"]
        )
    seven = queries("+861065529988")
    assert one == three == seven <= 3
    assert none <= 1
    with django_assert_max_num_queries(3):
        assert len(caller_matches(e164="+861065529988")) == 7


def test_the_number_lookup_uses_the_phone_index(xihu):
    table = Phone._meta.db_table
    with connection.cursor() as cursor:
        indexed = [
            c["columns"]
            for c in connection.introspection.get_constraints(cursor, table).values()
            if c["index"] or c["unique"]
        ]
        assert ["e164"] in indexed
        sql, params = Phone.objects.filter(e164="+861065529988").query.sql_with_params()
        if connection.vendor == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            plan = " ".join(str(row[-1]) for row in cursor.fetchall())
            assert "USING INDEX" in plan and "SCAN" not in plan, plan
        else:
            # A table this small is read whole when allowed; forbid that to see the index.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(f"EXPLAIN {sql}", params)
            plan = " ".join(row[0] for row in cursor.fetchall())
            assert "Index" in plan, plan
