"""Reads of the feedback app: scores aggregated in the database, with their arithmetic.

NPS = 100 × (p − d), p and d the shares of promoters (9–10) and detractors (0–6) among n
answers. Its confidence interval is the normal approximation of the difference of two
multinomial shares: Var(p − d) = (p + d − (p − d)²) / n, so the interval is
NPS ± z × 100 × √Var, z = 1.96 for 95 %, clipped to [−100, 100].
CSAT % is the share of 4s and 5s on the 1–5 scale; the effort score is the mean of the
1–7 answers (7 = very easy). A SERVQUAL gap is perception − expectation: per item and per
dimension the mean over all answers; per response the mean over its items, read as
ES < PS quality surprise, ES = PS satisfactory, ES > PS unacceptable (seed 003).
"""

import math
from collections import defaultdict

from django.db.models import Avg, Count, F, FloatField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Cast, TruncMonth
from django.utils import timezone

from kehu.customers.choices import LostReason
from kehu.feedback import verbatims
from kehu.feedback.models import (
    Dimension,
    Reading,
    Response,
    ServqualAnswer,
    ServqualItem,
    Survey,
    SurveyKind,
)
from kehu.feedback.services import DETRACTOR_MAX, PROMOTER_FROM

Z95 = 1.96
# Why customers stop coming (seed 003), to compare the exit survey's answers against.
EXIT_REASONS_EXPECTED = {
    LostReason.POOR_SERVICE: 0.68,
    LostReason.PRODUCT_QUALITY: 0.14,
    LostReason.PRICE: 0.09,
    LostReason.COMPETITOR: 0.05,
    LostReason.MOVED: 0.03,
    LostReason.OTHER: 0.01,
}


def survey_list() -> QuerySet[Survey]:
    return Survey.objects.annotate(
        sent=Count("invitations", filter=Q(invitations__status="sent"), distinct=True),
        answered=Count("responses", distinct=True),
    ).order_by("-is_active", "name")


def responses(*, since=None, until=None, survey: Survey | None = None) -> QuerySet[Response]:
    rows = Response.objects.all()
    if since is not None:
        rows = rows.filter(submitted_at__gte=since)
    if until is not None:
        rows = rows.filter(submitted_at__lt=until)
    if survey is not None:
        rows = rows.filter(survey=survey)
    return rows


def nps_interval(*, promoters: int, detractors: int, n: int, z: float = Z95) -> dict:
    """NPS and its confidence interval from the counts (see the module's docstring)."""
    if n == 0:
        return {"n": 0, "nps": None, "low": None, "high": None, "se": None}
    p, d = promoters / n, detractors / n
    variance = max(p + d - (p - d) ** 2, 0.0) / n
    se = 100 * math.sqrt(variance)
    nps = 100 * (p - d)
    return {
        "n": n,
        "nps": nps,
        "se": se,
        "low": max(nps - z * se, -100.0),
        "high": min(nps + z * se, 100.0),
    }


def _score_aggregates(prefix: str = "") -> dict:
    """Count/Avg expressions over responses (or over a relation to them, by prefix)."""
    kind, score = f"{prefix}kind", f"{prefix}score"
    nps = Q(**{kind: SurveyKind.NPS})
    csat = Q(**{kind: SurveyKind.CSAT})
    effort = Q(**{kind: SurveyKind.EFFORT})
    return {
        "nps_n": Count("pk", filter=nps),
        "promoters": Count("pk", filter=nps & Q(**{f"{score}__gte": PROMOTER_FROM})),
        "detractors": Count("pk", filter=nps & Q(**{f"{score}__lte": DETRACTOR_MAX})),
        "csat_n": Count("pk", filter=csat),
        "csat_satisfied": Count("pk", filter=csat & Q(**{f"{score}__gte": 4})),
        "csat_mean": Avg(Cast(score, FloatField()), filter=csat),
        "effort_n": Count("pk", filter=effort),
        "effort_mean": Avg(Cast(score, FloatField()), filter=effort),
    }


def _scores(row: dict) -> dict:
    nps = nps_interval(promoters=row["promoters"], detractors=row["detractors"], n=row["nps_n"])
    csat_n = row["csat_n"]
    return {
        "nps": nps,
        "promoters": row["promoters"],
        "detractors": row["detractors"],
        "csat_n": csat_n,
        "csat_percent": 100 * row["csat_satisfied"] / csat_n if csat_n else None,
        "csat_mean": row["csat_mean"],
        "effort_n": row["effort_n"],
        "effort_mean": row["effort_mean"],
    }


def scores(rows: QuerySet[Response]) -> dict:
    """NPS with its interval, CSAT %, effort score: one query."""
    return _scores(rows.aggregate(**_score_aggregates()))


TREND_KEYS = {
    "month": "month",
    "agent": "case__owner__username",
    "team": "case__team",
    "category": "case__category__name",
    # A customer with several tags counts once in each of them.
    "segment": "customer__tags__name",
    "status": "customer__status",
    # The RFM segment of the latest customer value refresh (kehu.insights).
    "value": "customer__value__segment",
}


def trend(rows: QuerySet[Response], *, by: str = "month") -> list[dict]:
    """The scores per month, agent (the case's owner), team, complaint category,
    segment (the customer's tags), the customer's status or value segment (RFM)."""
    key = TREND_KEYS[by]
    if by == "month":
        rows = rows.annotate(
            month=TruncMonth("submitted_at", tzinfo=timezone.get_current_timezone())
        )
    grouped = rows.values(key).annotate(**_score_aggregates()).order_by(key)
    return [{"key": row[key], **_scores(row)} for row in grouped]


def servqual_items(rows: QuerySet[Response]) -> list[dict]:
    """Per item: mean expectation, perception and gap, in the items' order."""
    answers = ServqualAnswer.objects.filter(response__in=rows)
    means = {
        row["item"]: row
        for row in answers.values("item").annotate(
            # The gap first: after them, "expectation" and "perception" name the means.
            gap=Avg(Cast(F("perception") - F("expectation"), FloatField())),
            n=Count("pk"),
            expectation=Avg(Cast("expectation", FloatField())),
            perception=Avg(Cast("perception", FloatField())),
        )
    }
    return [{**means[item.pk], "item": item} for item in ServqualItem.objects.filter(pk__in=means)]


def servqual_dimensions(rows: QuerySet[Response]) -> list[dict]:
    """Per dimension: the mean over all its answers (so each answer weighs the same)."""
    answers = ServqualAnswer.objects.filter(response__in=rows)
    means = {
        row["item__dimension"]: row
        for row in answers.values("item__dimension").annotate(
            # The gap first: after them, "expectation" and "perception" name the means.
            gap=Avg(Cast(F("perception") - F("expectation"), FloatField())),
            n=Count("pk"),
            expectation=Avg(Cast("expectation", FloatField())),
            perception=Avg(Cast("perception", FloatField())),
        )
    }
    return [
        {"dimension": d, "label": d.label, **means[d.value]} for d in Dimension if d.value in means
    ]


def servqual_readings(rows: QuerySet[Response]) -> list[Response]:
    """Each customer's latest SERVQUAL answer, with its gap and reading."""
    servqual = rows.filter(kind=SurveyKind.SERVQUAL)
    latest = Subquery(
        servqual.filter(customer=OuterRef("customer"))
        .order_by("-submitted_at", "-pk")
        .values("pk")[:1]
    )
    return list(
        servqual.filter(pk=latest).select_related("customer").order_by("gap", "customer__name")
    )


def reading_counts(rows: QuerySet[Response]) -> dict[str, int]:
    counts = dict(
        rows.filter(kind=SurveyKind.SERVQUAL)
        .values_list("reading")
        .annotate(n=Count("pk"))
        .values_list("reading", "n")
    )
    return {r.value: counts.get(r.value, 0) for r in Reading}


def exit_reasons(rows: QuerySet[Response]) -> list[dict]:
    """Each reason's count and share, against the seed's distribution."""
    counts = dict(
        rows.filter(kind=SurveyKind.EXIT)
        .values("exit_reason")
        .annotate(n=Count("pk"))
        .values_list("exit_reason", "n")
    )
    total = sum(counts.values())
    return [
        {
            "reason": reason.value,
            "label": reason.label,
            "n": counts.get(reason.value, 0),
            "share": counts.get(reason.value, 0) / total if total else None,
            "expected": EXIT_REASONS_EXPECTED[reason],
        }
        for reason in LostReason
    ]


def verbatim_groups(rows: QuerySet[Response], *, limit: int = 500) -> dict[str, list[dict]]:
    """The latest comments, grouped by the keyword rules (kehu.feedback.verbatims)."""
    rules = verbatims.keywords()
    groups: dict[str, list[dict]] = defaultdict(list)
    latest = (
        rows.exclude(comment="")
        .order_by("-submitted_at", "-pk")
        .values("pk", "comment", "kind", "score", "submitted_at")[:limit]
    )
    for row in latest:
        classes = verbatims.verbatim_classes(row["comment"], rules)
        for group in classes:
            groups[group].append({**row, "main": group == classes[0]})
    return {group: groups.get(group, []) for group in (*verbatims.CLASS_ORDER, "other")}


def customer_invitations(*, customer, limit: int = 20) -> QuerySet:
    """The customer's latest survey links, newest first, with their surveys."""
    return customer.survey_invitations.select_related("survey").order_by("-created_at", "-pk")[
        :limit
    ]


def customer_latest_scores(*, customer) -> dict[str, Response]:
    """The customer's latest answer of each kind, for the customer card: one query."""
    latest: dict[str, Response] = {}
    for response in Response.objects.filter(customer=customer).order_by("-submitted_at", "-pk")[
        :30
    ]:
        latest.setdefault(response.kind, response)
    return latest
