"""NPS and SERVQUAL arithmetic against worked examples computed by hand."""

import math

import pytest

from kehu.feedback import selectors, services
from kehu.feedback.models import Invitation, Reading, Response, ServqualItem, Survey
from kehu.feedback.verbatims import verbatim_classes
from tests.feedback.conftest import NOW, invite, make_survey


def test_nps_interval_worked_example():
    # 10 answers: 5 promoters (9–10), 2 passives, 3 detractors (0–6).
    # p = 0.5, d = 0.3, NPS = 100 × 0.2 = 20.
    # Var(p − d) = (0.5 + 0.3 − 0.2²) / 10 = 0.076; SE = 100 × √0.076 = 27.568…
    # 95 %: 20 ± 1.96 × 27.568 = 20 ± 54.03 → −34.03 … 74.03.
    result = selectors.nps_interval(promoters=5, detractors=3, n=10)
    assert result["nps"] == pytest.approx(20.0)
    assert result["se"] == pytest.approx(27.5681, abs=1e-3)
    assert result["low"] == pytest.approx(-34.03, abs=0.01)
    assert result["high"] == pytest.approx(74.03, abs=0.01)


def test_nps_interval_edges():
    assert selectors.nps_interval(promoters=0, detractors=0, n=0)["nps"] is None
    # All promoters: no variance, NPS 100, the interval a point.
    every = selectors.nps_interval(promoters=4, detractors=0, n=4)
    assert (every["nps"], every["low"], every["high"]) == (100.0, 100.0, 100.0)
    # 1 promoter, 1 detractor: p = d = 0.5, Var = (1 − 0) / 2 = 0.5, SE = 70.71; clipped.
    split = selectors.nps_interval(promoters=1, detractors=1, n=2)
    assert split["nps"] == 0 and split["low"] == -100.0 and split["high"] == 100.0


def test_scores_are_aggregated_from_stored_answers(supervisor, customer, mailoutbox):
    nps = make_survey(supervisor, Survey.Kind.NPS)
    csat = make_survey(supervisor, Survey.Kind.CSAT)
    effort = make_survey(supervisor, Survey.Kind.EFFORT)
    # The throttle would stop a second invitation to the same customer.
    from django.test import override_settings

    with override_settings(KEHU_SURVEY_THROTTLE_DAYS=0):
        for n, score in enumerate([10, 9, 9, 10, 9, 8, 7, 6, 0, 3]):
            _inv, token = invite(nps, customer, occasion=f"n{n}")
            services.response_submit(token=token, score=score, now=NOW)
        for n, score in enumerate([5, 4, 3, 1]):
            _inv, token = invite(csat, customer, occasion=f"c{n}")
            services.response_submit(token=token, score=score, now=NOW)
        for n, score in enumerate([7, 5, 3]):
            _inv, token = invite(effort, customer, occasion=f"e{n}")
            services.response_submit(token=token, score=score, now=NOW)
    result = selectors.scores(Response.objects.all())
    assert result["nps"]["n"] == 10 and result["nps"]["nps"] == pytest.approx(20.0)
    assert result["nps"]["low"] == pytest.approx(-34.03, abs=0.01)
    # CSAT %: two of four answered 4 or 5 = 50 %; mean (5+4+3+1)/4 = 3.25.
    assert result["csat_percent"] == 50.0 and result["csat_mean"] == pytest.approx(3.25)
    # Effort: (7 + 5 + 3) / 3 = 5.
    assert result["effort_mean"] == pytest.approx(5.0)
    by_month = selectors.trend(Response.objects.all(), by="month")
    assert len(by_month) == 1 and by_month[0]["nps"]["nps"] == pytest.approx(20.0)


def _answer_servqual(token, *, expectation, perception, now=NOW):
    items = list(ServqualItem.objects.filter(is_active=True))
    pairs = {item.pk: (expectation(item), perception(item)) for item in items}
    return services.response_submit(token=token, servqual=pairs, now=now)


def test_servqual_gaps_and_readings_worked_example(supervisor, customer, agent, settings):
    settings.KEHU_SURVEY_THROTTLE_DAYS = 0
    survey = make_survey(supervisor, Survey.Kind.SERVQUAL)
    items = list(ServqualItem.objects.all())
    assert len(items) == 22
    reliability = {i.pk for i in items if i.dimension == "reliability"}
    # Customer 1 expects 7 everywhere; perceives 4 on the 5 reliability items, 7 elsewhere.
    # Gap per reliability item −3, else 0; mean gap −15/22 = −0.682 → unacceptable.
    _inv, token = invite(survey, customer, occasion="a")
    first = _answer_servqual(
        token, expectation=lambda i: 7, perception=lambda i: 4 if i.pk in reliability else 7
    )
    assert first.gap == pytest.approx(-15 / 22)
    assert first.reading == Reading.UNACCEPTABLE
    # Customer 2 expects 5 and perceives 6 everywhere: gap +1 → quality surprise.
    from kehu.customers import services as customer_services

    other = customer_services.customer_create(
        actor=agent, kind="individual", name="张伟", emails=["zw@example.com"]
    )
    _inv, token = invite(survey, other, occasion="b")
    second = _answer_servqual(token, expectation=lambda i: 5, perception=lambda i: 6)
    assert second.gap == pytest.approx(1.0) and second.reading == Reading.SURPRISE
    # Within the tolerance (0.25) of zero: satisfactory.
    assert services.servqual_reading(0.2) == Reading.SATISFACTORY
    assert services.servqual_reading(0.0) == Reading.SATISFACTORY

    rows = Response.objects.all()
    dimensions = {d["dimension"]: d for d in selectors.servqual_dimensions(rows)}
    # Reliability: expectations (7×5 + 5×5)/10 = 6, perceptions (4×5 + 6×5)/10 = 5, gap −1.
    assert dimensions["reliability"]["expectation"] == pytest.approx(6.0)
    assert dimensions["reliability"]["perception"] == pytest.approx(5.0)
    assert dimensions["reliability"]["gap"] == pytest.approx(-1.0)
    # Tangibles: (7 + 5)/2 = 6 against (7 + 6)/2 = 6.5, gap +0.5.
    assert dimensions["tangibles"]["gap"] == pytest.approx(0.5)
    per_item = {row["item"].pk: row for row in selectors.servqual_items(rows)}
    some_reliability = next(iter(reliability))
    assert per_item[some_reliability]["gap"] == pytest.approx(-1.0)
    readings = selectors.servqual_readings(rows)
    assert [r.customer_id for r in readings] == [customer.pk, other.pk]
    assert selectors.reading_counts(rows) == {"surprise": 1, "satisfactory": 0, "unacceptable": 1}


def test_exit_reasons_against_the_seed(supervisor, customer, settings):
    settings.KEHU_SURVEY_THROTTLE_DAYS = 0
    survey = make_survey(supervisor, Survey.Kind.EXIT)
    for n, reason in enumerate(["poor_service", "poor_service", "price", "moved"]):
        _inv, token = invite(survey, customer, occasion=f"x{n}")
        services.response_submit(token=token, exit_reason=reason, comment="", now=NOW)
    rows = {r["reason"]: r for r in selectors.exit_reasons(Response.objects.all())}
    assert rows["poor_service"]["n"] == 2 and rows["poor_service"]["share"] == 0.5
    assert rows["poor_service"]["expected"] == 0.68
    assert rows["price"]["share"] == 0.25 and rows["competitor"]["share"] == 0
    assert math.isclose(sum(r["expected"] for r in rows.values()), 1.0)


@pytest.mark.parametrize(
    "text, main",
    [
        ("客服态度很好，很专业", "like"),
        ("等了三天才有人回复，太慢了", "dislike"),
        ("我要投诉，要求退款", "complaint"),
        ("建议增加周末服务时间", "suggestion"),
        ("The agent was friendly and helpful", "like"),
        ("It would be nice to have an app", "suggestion"),
        ("Rude staff, I want a refund", "complaint"),
        ("今天下雨", "other"),
    ],
)
def test_verbatims_by_keyword_rules(text, main):
    assert verbatim_classes(text)[0] == main


def test_a_negated_like_is_not_a_like():
    assert verbatim_classes("对处理结果不满意") == ["dislike"]
    assert verbatim_classes("I dislike the new app, not good") == ["dislike"]
    assert verbatim_classes("师傅很专业，但是上门不方便") == ["dislike", "like"]


def test_verbatim_keywords_are_configurable(settings):
    settings.KEHU_FEEDBACK_KEYWORDS = {"like": ["靠谱"]}
    assert verbatim_classes("师傅很靠谱") == ["like"]
    assert verbatim_classes("师傅很好") == ["other"]


def test_trends_by_agent_category_team_and_segment(supervisor, agent, manager, customer, settings):
    from kehu.customers import services as customer_services
    from kehu.service import services as case_services
    from kehu.service.models import ComplaintCategory

    settings.KEHU_SURVEY_THROTTLE_DAYS = 0
    customer_services.customer_update(actor=agent, customer=customer, tags=["VIP"])
    survey = make_survey(supervisor, Survey.Kind.NPS)
    product = ComplaintCategory.objects.get(code="product")
    # agent's complaint: a promoter and a detractor; manager's request: one promoter.
    answers = [
        (agent, "complaint", product, 10),
        (agent, "complaint", product, 2),
        (manager, "request", None, 9),
    ]
    for n, (owner, kind, category, score) in enumerate(answers):
        case = case_services.case_create(
            actor=owner,
            customer=customer,
            kind=kind,
            channel="phone",
            subject="事由",
            category=category,
            team="一组" if owner == agent else "二组",
            now=NOW,
        )
        invitation, token = invite(survey, customer, occasion=f"t{n}")
        Invitation.objects.filter(pk=invitation.pk).update(case=case)
        services.response_submit(token=token, score=score, now=NOW)
    rows = Response.objects.all()
    by_agent = {r["key"]: r["nps"]["nps"] for r in selectors.trend(rows, by="agent")}
    assert by_agent == {"agent": 0.0, "manager": 100.0}
    by_category = {r["key"]: r["nps"]["n"] for r in selectors.trend(rows, by="category")}
    assert by_category == {"Product": 2, None: 1}
    by_team = {r["key"]: r["nps"]["nps"] for r in selectors.trend(rows, by="team")}
    assert by_team == {"一组": 0.0, "二组": 100.0}
    # All three from a VIP customer: (2 promoters − 1 detractor) / 3 = 33.3.
    by_segment = {r["key"]: r["nps"]["nps"] for r in selectors.trend(rows, by="segment")}
    assert by_segment == {"VIP": pytest.approx(100 / 3)}
