"""Coherent zh_CN demo data, reproducible from a seed, loaded through the real import path."""

import csv
import io
import random
import secrets
from collections.abc import Callable

from django.conf import settings
from django.db import transaction

from kehu.customers import services
from kehu.customers.models import Customer
from kehu.customers.transfer import ImportReport, import_file
from kehu.users.models import User
from kehu.users.roles import Role
from kehu.users.services import user_create

DEMO_USERS = (
    ("admin", Role.ADMIN, "管理员"),
    ("agent", Role.AGENT, "李客服"),
    ("manager", Role.KEY_ACCOUNT_MANAGER, "王经理"),
    ("supervisor", Role.SUPERVISOR, "赵主管"),
    ("analyst", Role.ANALYST, "陈分析"),
)
INDUSTRIES = ("电信", "零售", "酒店", "家电制造", "物流", "银行", "教育", "医疗")
ORG_SUFFIXES = ("有限公司", "集团有限公司", "科技有限公司", "股份有限公司")
USUALS = ("高钙牛奶", "无糖豆浆", "靠窗座位", "大床房，高楼层", "每月流量套餐 50G", "上门安装",
          "美式咖啡，少冰", "每季度保养一次")
PREFERENCES = ("只接受上午来电", "喜欢微信沟通", "发票需提前开具", "不喜欢推销电话",
               "偏好邮件确认", "周末不打扰", "喜欢安静的房间")
NEEDS = ("希望缩短维修响应时间", "需要集团统一结算", "想了解会员积分", "关注节能产品",
         "需要英文发票", "希望有专属客户经理")
TAGS = ("VIP", "老客户", "价格敏感", "常投诉", "推荐人", "新客户")
TITLES = {"operational": ("操作员", "前台主管", "IT 工程师", "采购专员"),
          "management": ("行政经理", "IT 经理", "采购经理"),
          "decision": ("总经理", "副总裁", "财务总监", "董事长")}
LOST = ("poor_service", "product_quality", "price", "competitor", "moved")
LOST_WEIGHTS = (68, 14, 9, 5, 3)  # why customers stop coming (seed 003)


def _written_phone(rng: random.Random, digits: str) -> str:
    """The same number as people write it: spaces, dashes, +86, 0086."""
    style = rng.randrange(6)
    if style == 0:
        return digits
    if style == 1:
        return f"{digits[:3]} {digits[3:7]} {digits[7:]}"
    if style == 2:
        return f"+86 {digits[:3]}-{digits[3:7]}-{digits[7:]}"
    if style == 3:
        return f"0086 {digits}"
    if style == 4:
        return f"+86{digits}"
    return f"{digits[:3]}-{digits[3:7]}-{digits[7:]}"


def _mobile(rng: random.Random) -> str:
    return rng.choice(("138", "139", "135", "136", "150", "186", "188", "177")) + "".join(
        rng.choice("0123456789") for _ in range(8)
    )


def _landline(rng: random.Random) -> str:
    area, length = rng.choice((("010", 8), ("021", 8), ("020", 8), ("0755", 8), ("0571", 8)))
    first = rng.choice("2345678")
    number = first + "".join(rng.choice("0123456789") for _ in range(length - 1))
    written = rng.choice((f"({area}) {number[:4]}-{number[4:]}", f"{area}-{number}",
                          f"+86 {area[1:]} {number}"))
    if rng.random() < 0.3:
        written += f" ext. {rng.randrange(100, 999)}"
    return written


def demo_users_ensure() -> str:
    """Creates the demo users that are missing; returns their shared password.

    The password is kept in the data directory, which may outlive the database (a new
    KEHU_DATABASE_URL, a deleted SQLite file): the users are checked for, not assumed.
    """
    login_file = settings.DATA_DIR / "demo-login.txt"
    remembered = login_file.read_text().split() if login_file.exists() else []
    password = remembered[1] if len(remembered) > 1 else secrets.token_urlsafe(9)
    with transaction.atomic():
        for username, role, name in DEMO_USERS:
            if not User.objects.filter(username=username).exists():
                user_create(username=username, password=password, role=role, first_name=name)
    if len(remembered) < 2:
        login_file.write_text(f"admin {password}\n")
        login_file.chmod(0o600)
    return password


def demo_login() -> tuple[str, str] | None:
    login_file = settings.DATA_DIR / "demo-login.txt"
    if not login_file.exists():
        return None
    username, password = login_file.read_text().split()[:2]
    if not User.objects.filter(username=username).exists():
        return None
    return username, password


def demo_rows(*, customers: int, seed: int) -> tuple[list[list[str]], list[list[str]]]:
    from faker import Faker

    rng = random.Random(seed)
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    customer_rows = [["external_id", "kind", "name", "salutation", "status", "lost_reason",
                      "owner", "birthday", "industry", "usual", "preferences", "needs", "tags",
                      "phones", "emails", "addresses"]]
    contact_rows = [["external_id", "organisation", "name", "salutation", "title",
                     "decision_role", "style", "phones", "emails", "notes"]]
    contact_number = 0
    for index in range(1, customers + 1):
        external_id = f"DEMO-{seed}-{index:06d}"
        status = rng.choices(("active", "prospect", "lost"), (80, 12, 8))[0]
        lost_reason = rng.choices(LOST, LOST_WEIGHTS)[0] if status == "lost" else ""
        tags = ";".join(rng.sample(TAGS, rng.randrange(0, 3)))
        if rng.random() < 0.3:
            company = fake.city_name() + fake.company_prefix() + rng.choice(ORG_SUFFIXES)
            customer_rows.append([
                external_id, "organisation", company, "", status, lost_reason,
                "manager" if rng.random() < 0.6 else "", "", rng.choice(INDUSTRIES), "",
                rng.choice(PREFERENCES), rng.choice(NEEDS), tags, _landline(rng),
                f"service@{fake.domain_word()}{index}.com.cn", fake.address(),
            ])
            roles = ["decision", "management", "operational"]
            roles += [rng.choice(roles) for _ in range(rng.randrange(0, 4))]
            for role in roles:
                contact_number += 1
                surname = fake.last_name()
                name = surname + fake.first_name()
                honorific = {"decision": "总", "management": "经理", "operational": "工"}[role]
                contact_rows.append([
                    f"DEMO-{seed}-C{contact_number:07d}", external_id, name,
                    surname + honorific, rng.choice(TITLES[role]), role,
                    rng.choice(("eagle", "peacock", "dove", "owl", "")),
                    _written_phone(rng, _mobile(rng)),
                    f"{fake.user_name()}{contact_number}@{fake.free_email_domain()}",
                    "",
                ])
        else:
            surname = fake.last_name()
            male = rng.random() < 0.5
            name = surname + (fake.first_name_male() if male else fake.first_name_female())
            customer_rows.append([
                external_id, "individual", name, surname + ("先生" if male else "女士"), status,
                lost_reason, "", fake.date_of_birth(minimum_age=18, maximum_age=80).isoformat(),
                "", rng.choice(USUALS) if rng.random() < 0.6 else "", rng.choice(PREFERENCES),
                rng.choice(NEEDS) if rng.random() < 0.4 else "", tags,
                ";".join(_written_phone(rng, _mobile(rng)) for _ in range(rng.choice((1, 1, 2)))),
                f"{fake.user_name()}{index}@{fake.free_email_domain()}" if rng.random() < 0.7
                else "", fake.address() if rng.random() < 0.5 else "",
            ])
    return customer_rows, contact_rows


def _csv_bytes(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode("utf-8")


def demo_load(
    *, customers: int, seed: int = 2026,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> ImportReport:
    demo_users_ensure()
    customer_rows, contact_rows = demo_rows(customers=customers, seed=seed)
    report = import_file(name="demo-customers.csv", data=_csv_bytes(customer_rows),
                         progress=progress)
    if len(contact_rows) > 1:
        import_file(name="demo-contacts.csv", data=_csv_bytes(contact_rows), what="contacts")
    rng = random.Random(seed)
    agent = User.objects.get(username="agent")
    notes = ("客户来电咨询账单明细，已解释。", "回访：对上次上门维修满意。",
             "客户希望下次提前一天电话预约上门时间。", "表扬：安装师傅准时、细心。",
             "投诉等待时间太长，已致歉并记录。")
    sample = Customer.objects.filter(external_id__startswith=f"DEMO-{seed}-").order_by("id")
    for customer in sample[: min(customers, 200)]:
        for _ in range(rng.randrange(0, 3)):
            services.note_add(actor=agent, customer=customer, body=rng.choice(notes),
                              kind=rng.choice(("note", "call", "visit")))
    _demo_service(rng, list(sample[: min(customers, 60)]))
    _demo_promises(rng, list(sample[60 : min(customers, 90)]))
    _demo_feedback(rng, list(sample[: min(customers, 200)]))
    _demo_sales(rng, list(sample), seed=seed)
    return report


# Typical spend per visit of a customer, within a few times of each other: a few very big
# spenders would leave the Gamma-Gamma model without a mean (q <= 1) and the demo without CLV.
PRODUCTS = (("空调安装", "安装服务", 300, 0.55), ("明前龙井 250g 礼盒", "茶叶", 480, 0.6),
            ("每月流量套餐 50G", "通信", 199, 0.35), ("上门保养", "维修保养", 150, 0.5),
            ("高钙牛奶一箱", "食品", 120, 0.8), ("热水器配件", "家电", 360, 0.75))


def _demo_sales(rng: random.Random, customers: list[Customer], *, seed: int) -> None:
    """Two years of purchases (a few refunded, some sold at a loss) with customers who stay
    and customers who drift away, then one value refresh: the card shows real tiers,
    segments, lifetime value and churn risk after `make run`."""
    from datetime import timedelta
    from decimal import Decimal

    from django.utils import timezone

    from kehu.insights.services import value_refresh
    from kehu.sales.models import Transaction

    if not customers or Transaction.objects.exists():
        return
    now = timezone.now()
    rows = []
    for customer in customers:
        product, category, price, cost_share = rng.choice(PRODUCTS)
        at = now - timedelta(days=rng.randrange(30, 730), hours=rng.randrange(0, 10))
        gap = rng.randrange(7, 90)
        # Half keep coming; the others stop after a few purchases, some of them long ago.
        visits = 60 if rng.random() < 0.5 else rng.randrange(1, 6)
        for _ in range(visits):
            if at >= now:
                break
            amount = Decimal(price * rng.uniform(0.6, 1.6)).quantize(Decimal("0.01"))
            # One customer in ten is sold to below cost (discounts, free service calls).
            share = cost_share * (1.6 if customer.pk % 10 == 0 else 1.0)
            purchase = Transaction(
                customer=customer, kind=Transaction.Kind.PURCHASE, occurred_at=at,
                amount=amount, cost=(amount * Decimal(share)).quantize(Decimal("0.01")),
                product=product, category=category, channel=rng.choice(("shop", "web", "phone")),
                external_id=f"DEMO-{seed}-T{len(rows)}",
            )
            rows.append(purchase)
            if rng.random() < 0.03:
                rows.append(Transaction(
                    customer=customer, kind=Transaction.Kind.REFUND,
                    occurred_at=at + timedelta(days=2), amount=amount, product=product,
                    category=category, channel=purchase.channel,
                    external_id=f"DEMO-{seed}-T{len(rows)}",
                ))
            at += timedelta(days=max(1, gap + rng.randrange(-gap // 3, gap // 3 + 1)))
    Transaction.objects.bulk_create([row for row in rows if row.occurred_at <= now],
                                    batch_size=2000)
    value_refresh(now=now)


COMPLAINTS = (
    ("product", "空调不制冷，刚安装一周", "delivery"),
    ("service", "客服电话等待超过二十分钟", "attitude"),
    ("commitment", "承诺的上门时间没有兑现", "promise"),
    ("offer", "朋友有优惠，我为什么没有", "price"),
    ("product", "热水器漏水", "product"),
    ("service", "安装师傅态度差", "attitude"),
)
REQUESTS = ("申请开具增值税发票", "预约下周上门保养", "变更集团账单地址", "加装宽带专线")
PRAISES = ("表扬：维修师傅准时、细心", "表扬：客服耐心解释账单")


def _demo_service(rng: random.Random, customers: list[Customer]) -> None:
    """A business calendar, SLA policies and a few dozen cases in every state, so that the
    case list, the SLA clocks, approvals and the root-cause ranking have something to show."""
    from datetime import timedelta
    from decimal import Decimal

    from django.utils import timezone

    from kehu.service import services as service
    from kehu.service.models import (
        BusinessCalendar,
        Case,
        ComplaintCategory,
        RootCause,
        SlaPolicy,
    )

    if not customers or Case.objects.exists():
        return
    agent, supervisor = User.objects.get(username="agent"), User.objects.get(username="supervisor")
    calendar = BusinessCalendar.objects.filter(name="客服中心").first() or service.calendar_create(
        name="客服中心", time_zone=settings.TIME_ZONE,
        hours=[[["09:00", "12:00"], ["13:30", "18:00"]]] * 5 + [[], []], region="CN",
    )
    if not SlaPolicy.objects.exists():
        service.sla_policy_create(name="投诉", kind="complaint", priority="", key_accounts=False,
                                  first_response_minutes=120, resolution_minutes=1440,
                                  calendar=calendar)
        service.sla_policy_create(name="大客户投诉", kind="complaint", priority="",
                                  key_accounts=True, first_response_minutes=30,
                                  resolution_minutes=480, calendar=calendar)
        service.sla_policy_create(name="一般工单", kind="", priority="", key_accounts=False,
                                  first_response_minutes=240, resolution_minutes=2400,
                                  calendar=calendar)
        service.sla_policy_create(name="流失风险客户投诉", kind="complaint", priority="",
                                  key_accounts=False, customer_value="churn_risk",
                                  first_response_minutes=60, resolution_minutes=720,
                                  calendar=calendar)
    now = timezone.now()
    for number, customer in enumerate(customers):
        opened = now - timedelta(days=rng.randrange(0, 20), hours=rng.randrange(0, 8))
        choice = rng.random()
        if choice < 0.6:
            category, subject, cause = rng.choice(COMPLAINTS)
            case = service.case_create(
                actor=agent, customer=customer, kind="complaint", channel=rng.choice(
                    ("phone", "phone", "email", "web", "letter")),
                category=ComplaintCategory.objects.get(code=category), subject=subject,
                priority=rng.choice(("normal", "normal", "high")), now=opened)
        else:
            kind, subject = (("praise", rng.choice(PRAISES)) if choice > 0.9
                             else ("request", rng.choice(REQUESTS)))
            case = service.case_create(actor=agent, customer=customer, kind=kind,
                                       channel="phone", subject=subject, now=opened)
            cause = None
        later = min(opened + timedelta(hours=2), now)
        if number % 3 == 0:
            continue  # still new
        case = service.case_transition(actor=agent, case=case, to="acknowledged",
                                       expected_version=case.version, now=later)
        if case.kind == "complaint" and number % 4 == 1:
            service.worksheet_save(
                actor=agent, case=case, expected_version=case.version, now=later,
                answers={"motive": ["explanation"], "we_at_fault": "a_little",
                         "summary": ["should"], "position": "proposal",
                         "position_note": "致歉并赠送一次免费保养"})
            case.refresh_from_db()
            service.remedy_request(actor=agent, case=case, kind="goodwill",
                                   amount=Decimal(rng.choice((50, 100, 150, 600))),
                                   description="免费保养一次", now=later)
        if number % 3 == 1:
            continue  # in the works
        case = service.case_transition(
            actor=agent, case=case, to="resolved", expected_version=case.version, now=later,
            root_cause=RootCause.objects.get(code=cause) if cause else None)
        if number % 2 == 0:
            service.case_transition(actor=supervisor, case=case, to="closed",
                                    expected_version=case.version, now=later)
    service.improvement_action_create(
        actor=supervisor, title="安装预约改为两小时时间窗，并提前一天电话确认",
        owner=supervisor, due_date=(now + timedelta(days=30)).date(),
        root_cause=RootCause.objects.get(code="delivery"),
        cases=list(Case.objects.filter(root_cause__code="delivery")[:5]), now=now)
    service.case_sla_sweep(now=now)


PROMISES = ("明天上午回电说明到货时间", "周五前寄出增值税发票", "下周一前给出集团专线报价",
            "三天内安排师傅上门复检", "月底前补发赠品")


def _demo_promises(rng: random.Random, customers: list[Customer]) -> None:
    """Follow-up policies and promises and callbacks around today, so that "My day" of the
    demo agent and manager has overdue and due items."""
    from datetime import timedelta

    from django.utils import timezone

    from kehu.promises import services as promises
    from kehu.promises.models import Commitment, FollowUpPolicy

    if not customers or Commitment.objects.exists():
        return
    agent, manager = User.objects.get(username="agent"), User.objects.get(username="manager")
    supervisor = User.objects.get(username="supervisor")
    for name, trigger, days, kind, purpose in () if FollowUpPolicy.objects.exists() else (
        ("大客户月度回访", "key_account_every", 30, "phone", "例行电话回访，了解近况和需求"),
        ("投诉解决后满意度回访", "after_resolved", 3, "callback", "投诉处理满意度回访"),
        ("未接来电回电", "missed_call", 0, "callback", "回电：客户来电未接通"),
        ("流失客户挽回", "lost_customer", 7, "phone", "了解流失原因，邀请回来"),
    ):
        promises.follow_up_policy_save(policy=FollowUpPolicy(
            name=name, trigger=trigger, days=days, kind=kind, purpose=purpose, owner=supervisor))
    if not FollowUpPolicy.objects.filter(trigger="segment_every").exists():
        promises.follow_up_policy_save(policy=FollowUpPolicy(
            name="不能失去的客户季度回访", trigger="segment_every", segment="cannot_lose", days=90,
            kind="phone", purpose="了解近况和需求，留住老客户", owner=supervisor))
    now = timezone.now()
    for number, customer in enumerate(customers):
        owner = agent if number % 2 else manager
        made = now - timedelta(days=3)
        commitment = promises.commitment_create(
            actor=owner, customer=customer, promise=rng.choice(PROMISES),
            due_at=now + timedelta(hours=rng.randrange(-30, 60)), now=made)
        if number % 5 == 0:
            promises.commitment_keep(actor=owner, commitment=commitment, evidence="已按时办理",
                                     expected_version=commitment.version)
        elif number % 7 == 0:
            promises.commitment_break(actor=owner, commitment=commitment,
                                      reason="仓库缺货，未能按时发出",
                                      expected_version=commitment.version)
        if number % 3 == 0:
            promises.follow_up_create(
                actor=owner, customer=customer, kind=rng.choice(("callback", "phone")),
                purpose="确认上次问题是否解决", due_at=now + timedelta(hours=rng.randrange(1, 30)),
                now=made)
    promises.follow_ups_generate(now=now)


# name, kind, trigger, delay, channel
SURVEYS = (
    ("售后回访满意度", "csat", "after_resolved", 24, "email"),
    ("推荐意愿调查", "nps", "manual", 24, "sms"),
    ("大客户服务质量（SERVQUAL）", "servqual", "key_account_every", 90, "email"),
    ("流失客户离开原因", "exit", "lost_customer", 24, "sms"),
)
PRAISE_COMMENTS = ("师傅很专业，态度热情", "客服回复很快，谢谢", "满意，下次还找你们", "")
CRITICAL_COMMENTS = ("等了三天才有人回复，太慢了", "建议周末也能上门服务", "价格有点贵",
                     "投诉了两次都没人管", "希望能提前电话预约上门时间", "")
EXIT_COMMENTS = {"poor_service": "打了好几次电话都没解决", "product_quality": "用了半年就坏了",
                 "price": "别家便宜不少", "competitor": "朋友在别家上班", "moved": "搬到外地了",
                 "other": ""}
# Perception against expectation per dimension: responsiveness falls short, as it often does.
SERVQUAL_BIAS = {"reliability": 1, "responsiveness": -1, "assurance": 0, "empathy": 0,
                 "tangibles": 1}


def _demo_feedback(rng: random.Random, customers: list[Customer]) -> None:
    """Four surveys, links sent over the last five months and most of them answered (CSAT
    after resolved cases, NPS, SERVQUAL from key accounts, exit reasons from lost
    customers), so that the satisfaction page has trends, gaps and verbatims to show.
    Nothing is delivered; a rerun finds its invitations made and adds nothing."""
    from datetime import timedelta

    from django.utils import timezone

    from kehu.feedback import services as feedback
    from kehu.feedback.models import Invitation, ServqualItem, Survey
    from kehu.feedback.selectors import EXIT_REASONS_EXPECTED
    from kehu.service.models import Case

    if not customers:
        return
    supervisor = User.objects.get(username="supervisor")
    now = timezone.now()
    surveys = {}
    for name, kind, trigger, delay, channel in SURVEYS:
        surveys[kind] = Survey.objects.filter(name=name).first() or feedback.survey_create(
            actor=supervisor, name=name, kind=kind, trigger=trigger, delay=delay,
            channel=channel, now=now - timedelta(days=180))
    items = list(ServqualItem.objects.filter(is_active=True))

    def answer(invitation: Invitation | None, at, **answers) -> None:
        # Three in four answer; the rest stay open, to be re-sent or revoked.
        if invitation is None or invitation.status != Invitation.Status.SENT:
            return
        if rng.random() < 0.75:
            feedback.response_record(invitation=invitation, now=at + timedelta(hours=5),
                                     **answers)

    def send(kind: str, customer: Customer, occasion: str, at, case=None):
        return feedback.invitation_send(survey=surveys[kind], customer=customer,
                                        occasion=occasion, case=case, deliver=False, now=at)

    ids = [c.pk for c in customers]
    cases = Case.objects.filter(customer__in=ids, resolved_at__isnull=False).select_related(
        "customer").order_by("resolved_at", "pk")
    for case in cases:
        at = case.resolved_at + timedelta(hours=24)
        happy = rng.random() < 0.7
        answer(send("csat", case.customer, f"case-{case.pk}", min(at, now), case), min(at, now),
               score=rng.choice((4, 5)) if happy else rng.choice((1, 2, 3)),
               comment=rng.choice(PRAISE_COMMENTS if happy else CRITICAL_COMMENTS))
    # The other surveys go to customers without a surveyed case, whom the throttle would
    # otherwise keep from one of the two.
    asked = {case.customer_id for case in cases}
    others = [c for c in customers if c.pk not in asked]
    live = [c for c in others if c.status != "lost"]
    accounts = [c for c in live if c.is_organisation][:12]
    live = [c for c in live if c not in accounts]
    for number, customer in enumerate(live[:80]):
        at = now - timedelta(days=30 + (number * 120) // 80, hours=rng.randrange(0, 12))
        happy = rng.random() < 0.65
        score = rng.choice((9, 10) if happy else (0, 3, 5, 6, 7, 8))
        answer(send("nps", customer, "demo-nps", at), at, score=score,
               comment=rng.choice(PRAISE_COMMENTS if score >= 7 else CRITICAL_COMMENTS))
    for number, customer in enumerate(accounts):
        at = now - timedelta(days=25 - number)
        pairs = {}
        for item in items:
            expectation = rng.randint(5, 7)
            perception = expectation + SERVQUAL_BIAS[item.dimension] + rng.randint(-1, 1)
            pairs[item.pk] = (expectation, max(1, min(7, perception)))
        answer(send("servqual", customer, "demo-servqual", at), at, servqual=pairs,
               comment=rng.choice(CRITICAL_COMMENTS))
    reasons = list(EXIT_REASONS_EXPECTED)
    weights = list(EXIT_REASONS_EXPECTED.values())
    for number, customer in enumerate(c for c in others if c.status == "lost"):
        at = now - timedelta(days=5 + 3 * number)
        reason = customer.lost_reason or rng.choices(reasons, weights)[0]
        answer(send("exit", customer, "demo-exit", at), at, exit_reason=reason,
               comment=EXIT_COMMENTS[reason])
