"""Personal touches: birthday and anniversary greetings (once a year, through the senders),
tier notices, the log agents read, and "the usual" with next-best suggestions."""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from kehu.customers.services import customer_create
from kehu.loyalty import greetings, services
from kehu.loyalty.models import Notice, Tier, TierChange
from kehu.sales import services as sales_services
from kehu.sales import suggestions
from tests.conftest import logged_in

MORNING = timezone.make_aware(datetime(2026, 5, 20, 10, 0))


@pytest.fixture
def sms_log(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    return tmp_path / "sms.log"


def _member(actor, name, *, birthday=None, joined=datetime(2026, 1, 2, 12), phones=(),
            emails=()):
    customer = customer_create(actor=actor, kind="individual", name=name, birthday=birthday,
                               phones=phones, emails=emails)
    return services.member_enrol(actor=actor, customer=customer,
                                 now=timezone.make_aware(joined))


def test_birthday_greeting_by_sms_once_a_year(supervisor, sms_log):
    member = _member(supervisor, "李娜", birthday=date(1990, 5, 20), joined=datetime(2026, 1, 2),
                     phones=["13800138000"])
    _member(supervisor, "别人", birthday=date(1990, 6, 1), joined=datetime(2026, 1, 2),
            phones=["13900139000"])
    assert greetings.greetings_send(now=MORNING) == {"birthday": 1, "anniversary": 0}
    # The job runs every hour and on several servers: never a second greeting this year.
    assert greetings.greetings_send(now=MORNING + timedelta(hours=1))["birthday"] == 0
    assert greetings.greetings_send(now=MORNING + timedelta(days=1))["birthday"] == 0
    lines = sms_log.read_text().splitlines()
    assert len(lines) == 1 and "+8613800138000" in lines[0] and "李娜" in lines[0]
    notice = Notice.objects.get()
    assert (notice.member, notice.kind, notice.year, notice.status) == (
        member, "birthday", 2026, "sent")
    # Next year, again.
    assert greetings.greetings_send(now=MORNING.replace(year=2027))["birthday"] == 1


def test_no_greeting_at_night_and_a_late_one_after_downtime(supervisor, sms_log):
    _member(supervisor, "李娜", birthday=date(1990, 5, 20), phones=["13800138000"])
    night = timezone.make_aware(datetime(2026, 5, 20, 3, 0))
    assert greetings.greetings_send(now=night)["birthday"] == 0
    # The server was down on the day: two days later the greeting still goes, once.
    assert greetings.greetings_send(now=MORNING + timedelta(days=2))["birthday"] == 1
    assert greetings.greetings_send(now=MORNING + timedelta(days=5))["birthday"] == 0
    assert Notice.objects.count() == 1


def test_greeting_near_new_year_is_not_repeated_in_january(supervisor, sms_log):
    _member(supervisor, "除夕", birthday=date(1990, 12, 31), phones=["13800138000"])
    eve = timezone.make_aware(datetime(2025, 12, 31, 10))
    assert greetings.greetings_send(now=eve)["birthday"] == 1
    assert greetings.greetings_send(now=eve + timedelta(days=1))["birthday"] == 0
    assert Notice.objects.get().year == 2025


def test_leap_day_birthday_is_greeted_on_28_february(supervisor, sms_log):
    _member(supervisor, "闰日", birthday=date(2000, 2, 29), phones=["13800138000"])
    feb28 = timezone.make_aware(datetime(2026, 2, 28, 10))
    assert greetings.greetings_send(now=feb28)["birthday"] == 1


def test_anniversary_by_email_with_the_years(supervisor):
    _member(supervisor, "王芳", joined=datetime(2023, 5, 20, 12), emails=["wang@example.com"])
    _member(supervisor, "新会员", joined=datetime(2026, 5, 20, 8), emails=["new@example.com"])
    assert greetings.greetings_send(now=MORNING) == {"birthday": 0, "anniversary": 1}
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["wang@example.com"] and "3 years" in mail.outbox[0].body


def test_a_member_without_address_is_logged_not_sent(supervisor, sms_log):
    _member(supervisor, "无联系", birthday=date(1990, 5, 20))
    greetings.greetings_send(now=MORNING)
    assert Notice.objects.get().status == "no_address"
    assert not sms_log.exists()


def test_a_failing_gateway_is_logged_on_the_notice(supervisor, settings):
    settings.KEHU_SMS_SENDER = "tests.loyalty.test_touches.BrokenSender"
    _member(supervisor, "李娜", birthday=date(1990, 5, 20), phones=["13800138000"])
    greetings.greetings_send(now=MORNING)
    notice = Notice.objects.get()
    assert notice.status == "failed" and "gateway down" in notice.error
    assert greetings.greetings_send(now=MORNING + timedelta(hours=1))["birthday"] == 0


class BrokenSender:
    def send(self, *, to: str, body: str) -> None:
        raise ConnectionError("gateway down")


def test_greetings_in_chinese(supervisor, settings, sms_log):
    settings.LANGUAGE_CODE = "zh-hans"
    _member(supervisor, "李娜", birthday=date(1990, 5, 20), phones=["13800138000"])
    greetings.greetings_send(now=MORNING)
    assert "生日" in sms_log.read_text()


def test_tier_notices_are_sent_once_and_logged(supervisor, sms_log):
    Tier.objects.create(name="Silver", rank=0, metric="spend", threshold=0)
    Tier.objects.create(name="Gold", rank=1, metric="spend", threshold=100)
    member = _member(supervisor, "李娜", phones=["13800138000"], joined=datetime(2026, 1, 1))
    sales_services.transaction_record(actor=supervisor, customer=member.customer,
                                      amount=Decimal(150), occurred_at=MORNING, now=MORNING)
    assert services.tiers_evaluate(now=MORNING)["upgrade"] == 1
    assert greetings.tier_notices_send(now=MORNING) == 1
    assert greetings.tier_notices_send(now=MORNING) == 0
    assert "Gold" in sms_log.read_text()
    change = TierChange.objects.get()
    assert change.notified_at is not None and change.notice.kind == "upgrade"
    # A year later the spend is out of the window: at risk first (grace), then down.
    later = MORNING + timedelta(days=400)
    services.tiers_evaluate(now=later)
    assert greetings.tier_notices_send(now=later) == 1
    services.tiers_evaluate(now=later + timedelta(days=31))
    assert greetings.tier_notices_send(now=later + timedelta(days=31)) == 1
    kinds = list(Notice.objects.order_by("pk").values_list("kind", flat=True))
    assert kinds == ["upgrade", "at_risk", "downgrade"]
    text = sms_log.read_text()
    assert "keep the tier until" in text and "is now: Silver" in text


def test_old_tier_changes_are_not_announced(supervisor, sms_log):
    Tier.objects.create(name="Gold", rank=1, metric="spend", threshold=0)
    member = _member(supervisor, "李娜", phones=["13800138000"])
    TierChange.objects.create(member=member, kind="upgrade", to_tier=Tier.objects.get(),
                              at=MORNING - timedelta(days=30))
    assert greetings.tier_notices_send(now=MORNING) == 0


def test_agents_read_the_log_and_anonymous_are_refused(agent, supervisor, sms_log, client):
    member = _member(supervisor, "李娜", birthday=date(1990, 5, 20), phones=["13800138000"])
    greetings.greetings_send(now=MORNING)
    page = logged_in(agent).get(reverse("loyalty:notices") + "?kind=birthday").content.decode()
    assert "李娜" in page and "+8613800138000" in page
    fragment = logged_in(agent).get(reverse("loyalty:member_notices", args=[member.pk]))
    assert "happy birthday" in fragment.content.decode()
    assert client.get(reverse("loyalty:notices")).status_code == 302


# --- The usual and next best ------------------------------------------------------------


def _buy(actor, customer, product, *, days_ago, category="茶"):
    at = timezone.now() - timedelta(days=days_ago)
    return sales_services.transaction_record(actor=actor, customer=customer, amount=Decimal(30),
                                             occurred_at=at, product=product, category=category)


@pytest.fixture
def shop(supervisor):
    people = {name: customer_create(actor=supervisor, kind="individual", name=name)
              for name in ("老张", "甲", "乙", "丙", "丁")}
    for days in (3, 10, 20):
        _buy(supervisor, people["老张"], "珍珠奶茶", days_ago=days)
    _buy(supervisor, people["老张"], "绿茶", days_ago=5)
    _buy(supervisor, people["老张"], "乌龙", days_ago=300)  # long ago: not the usual
    for name in ("甲", "乙", "丙"):
        _buy(supervisor, people[name], "珍珠奶茶", days_ago=7)
        _buy(supervisor, people[name], "芒果冰沙", days_ago=6)
    _buy(supervisor, people["甲"], "蛋挞", days_ago=6, category="点心")
    _buy(supervisor, people["甲"], "绿茶", days_ago=6)  # 老张 buys it already
    _buy(supervisor, people["丁"], "咖啡", days_ago=6)  # buys nothing 老张 buys
    return people


def test_the_usual_is_the_most_frequent_recent_purchase(shop):
    usual = suggestions.customer_usual(customer=shop["老张"])
    assert (usual.item, usual.times) == ("珍珠奶茶", 3)
    assert suggestions.customer_usual(customer=shop["丁"]).item == "咖啡"


def test_next_best_counts_customers_who_buy_the_same(shop):
    assert suggestions.customer_next_best(customer=shop["老张"]) == [("芒果冰沙", 3), ("蛋挞", 1)]


def test_category_stands_in_for_a_missing_product(supervisor):
    customer = customer_create(actor=supervisor, kind="individual", name="只有类别")
    _buy(supervisor, customer, "", days_ago=1, category="文具")
    assert suggestions.customer_usual(customer=customer).item == "文具"
    nobody = customer_create(actor=supervisor, kind="individual", name="没买过")
    assert suggestions.customer_usual(customer=nobody) is None
    assert suggestions.customer_next_best(customer=nobody) == []


def test_card_and_panel_fragment_shows_suggestions(agent, shop, client):
    url = reverse("loyalty:customer_suggestions", args=[shop["老张"].pk])
    text = logged_in(agent).get(url).content.decode()
    assert "珍珠奶茶" in text and "芒果冰沙" in text and "乌龙" not in text
    card = logged_in(agent).get(reverse("customers:card", args=[shop["老张"].pk])).content
    assert url in card.decode()
    assert client.get(url).status_code == 302


def _queries(client, url) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_log_and_the_admin_page_make_a_fixed_number_of_queries(supervisor, sms_log):
    client = logged_in(supervisor)
    urls = [reverse("loyalty:notices"), reverse("loyalty:manage")]
    _member(supervisor, "甲", birthday=date(1990, 5, 20), phones=["13800138000"])
    greetings.greetings_send(now=MORNING)
    few = [_queries(client, url) for url in urls]
    for n in range(5):
        _member(supervisor, f"乙{n}", birthday=date(1990, 5, 20), phones=["13800138000"])
        Tier.objects.create(name=f"T{n}", rank=n, metric="spend", threshold=n)
    greetings.greetings_send(now=MORNING)
    assert Notice.objects.count() == 6
    assert [_queries(client, url) for url in urls] == few
