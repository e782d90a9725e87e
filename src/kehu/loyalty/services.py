"""Members, the points ledger, tiers, rewards and offers.

The ledger is append-only and each member's `balance` always equals the sum of their
entries: every write here inserts entries and moves the balance in the same
transaction. Redemptions lock the member row first (FOR UPDATE on PostgreSQL; on SQLite
they take their turn on the writers' lock, then an IMMEDIATE transaction, so one writer at
a time), so two at once can never take the balance below zero.
"""

import os
import sqlite3
import tempfile
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.customers.models import Customer
from kehu.db import checkpoint, write_turn
from kehu.loyalty.catalogue import fields_apply
from kehu.loyalty.models import (
    Member,
    Offer,
    OfferUse,
    PointsEntry,
    Programme,
    ProgrammeChange,
    Redemption,
    Reward,
    Tier,
    TierChange,
)
from kehu.sales.models import Transaction
from kehu.setting_changes import setting_changes_record
from kehu.users.models import User
from kehu.users.roles import Capability

EARN_CHUNK = 1_000_000  # transactions per earning transaction
MAX_ADJUST = 10_000_000


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def _check(actor: User | None, capability: Capability, message: str) -> None:
    if actor is not None and not actor.can(capability):
        raise ValidationError(message, code="forbidden")


def programme_get() -> Programme:
    programme, _created = Programme.objects.get_or_create(pk=1)
    return programme


PROGRAMME_FIELDS = {"name", "points_per_unit", "expiry_days", "window_days", "grace_days"}
# Beyond these a value is a slip of the keyboard, not a programme: a thousand points per
# yuan, points or windows of a century.
MAX_POINTS_PER_UNIT = Decimal(1000)
MAX_PROGRAMME_DAYS = 3650


def _programme_errors(values: dict) -> dict[str, str]:
    errors = {}
    if values["points_per_unit"] is not None and values["points_per_unit"] > MAX_POINTS_PER_UNIT:
        errors["points_per_unit"] = _("At most %(n)s points per unit of money.") % {
            "n": MAX_POINTS_PER_UNIT}
    for name in ("expiry_days", "window_days", "grace_days"):
        if values[name] is not None and values[name] > MAX_PROGRAMME_DAYS:
            errors[name] = _("At most %(n)d days (ten years).") % {"n": MAX_PROGRAMME_DAYS}
    if values["window_days"] is not None and values["window_days"] < 1:
        errors["window_days"] = _("The tier window must be at least one day.")
    if (values["grace_days"] is not None and values["window_days"] is not None
            and values["grace_days"] > values["window_days"] and "window_days" not in errors):
        errors["grace_days"] = _("The grace period may not be longer than the tier window.")
    return errors


@transaction.atomic
def programme_update(*, actor: User, **fields) -> Programme:
    """Changes the given settings (the others stay); a bad value is a ValidationError and
    nothing is written. Rates apply to points not yet earned, the expiry age and the tier
    window from the next nightly run."""
    _check(actor, Capability.LOYALTY_MANAGE, _("You may not change the loyalty programme."))
    programme = Programme.objects.select_for_update().get(pk=programme_get().pk)
    if isinstance(fields.get("name"), str):
        fields["name"] = fields["name"].strip()
    errors = _programme_errors({name: fields.get(name, getattr(programme, name))
                                for name in PROGRAMME_FIELDS})
    if errors:
        raise ValidationError(errors)
    before = {name: getattr(programme, name) for name in sorted(PROGRAMME_FIELDS)}
    fields_apply(programme, PROGRAMME_FIELDS, fields)
    setting_changes_record(ProgrammeChange, actor=actor, at=timezone.now(), before=before,
                           after={name: getattr(programme, name) for name in before})
    return programme


# --- Members ------------------------------------------------------------------------------


@transaction.atomic
def member_enrol(*, actor: User | None, customer: Customer, now: datetime | None = None
                 ) -> Member:
    """Makes the customer a member (会员); enrolling a member again returns them."""
    _check(actor, Capability.LOYALTY_WORK, _("You may not enrol members."))
    if customer.merged_into_id:
        raise ValidationError({"customer": _(
            "This customer was merged into another; use that one.")})
    existing = Member.objects.filter(customer=customer).first()
    if existing is not None:
        return existing
    now = _now(now)
    base = Tier.objects.filter(threshold__lte=0).order_by("-rank").first()
    member = Member.objects.create(customer=customer, number=f"~{customer.pk}", joined_at=now,
                                   tier=base, tier_since=now if base else None)
    member.number = f"M{member.pk:08d}"
    member.save(update_fields=["number"])
    return member


def _locked_member(member: Member) -> Member:
    return Member.objects.select_for_update().get(pk=member.pk)


def _append(member: Member, *, kind: str, points: int, at: datetime, actor: User | None = None,
            reason: str = "", lot_at: datetime | None = None) -> PointsEntry:
    """Inserts one entry and moves the (locked) member's balance by the same points."""
    entry = PointsEntry.objects.create(member=member, kind=kind, points=points, at=at,
                                       lot_at=lot_at, reason=reason, created_by=actor)
    member.balance += points
    Member.objects.filter(pk=member.pk).update(balance=member.balance)
    return entry


@transaction.atomic
def points_adjust(*, actor: User, member: Member, points: int, reason: str,
                  now: datetime | None = None) -> PointsEntry:
    """A correction with a reason: a positive one is a new lot; a negative one may not take
    the balance below zero."""
    _check(actor, Capability.LOYALTY_MANAGE, _("You may not adjust points."))
    reason = (reason or "").strip()
    errors: dict[str, str] = {}
    if not isinstance(points, int) or points == 0 or abs(points) > MAX_ADJUST:
        errors["points"] = _("Give a whole number of points other than zero.")
    if not reason:
        errors["reason"] = _("Say why the points are adjusted.")
    if errors:
        raise ValidationError(errors)
    now = _now(now)
    member = _locked_member(member)
    if member.balance + points < 0:
        raise ValidationError({"points": _(
            "The member has only %(balance)d points.") % {"balance": member.balance}})
    return _append(member, kind=PointsEntry.Kind.ADJUST, points=points, at=now, actor=actor,
                   reason=reason[:200], lot_at=now if points > 0 else None)


# --- Earning and claw-back (set-based) ----------------------------------------------------


def _dt(value: datetime):
    return connection.ops.adapt_datetimefield_value(value)


def _typed(expression: str, type_: str = "timestamp with time zone") -> str:
    """PostgreSQL needs the type of a parameter or NULL in a subquery's select list; SQLite
    would turn a timestamp into a number by a cast."""
    return f"CAST({expression} AS {type_})" if connection.vendor == "postgresql" else expression


def _least() -> str:
    return "LEAST" if connection.vendor == "postgresql" else "MIN"


def _floor(expression: str) -> str:
    """SQL for the whole part of `expression`, a number of points >= 0 (the amounts it is
    computed from are positive, by constraint)."""
    if connection.vendor == "postgresql":
        return f"FLOOR({expression})::bigint"
    # SQLite computes in floating point: 0.29 * 100 is 28.999…; the noise goes with
    # rounding to the millionth before the cast cuts the fraction off. Adding half a
    # millionth first does exactly that for a number >= 0, where ROUND(x, 6) writes the
    # number out as text and reads it back: a third of earning's SELECT.
    return f"CAST(({expression}) + 0.0000005 AS INTEGER)"


def _append_rows(parts: list[tuple[str, str, list]]) -> int:
    """Appends to the ledger, part by part, the rows of each part's `select` (member_id,
    transaction_id, points, at, lot_at) as entries of its kind, each in one INSERT …
    SELECT (a part sees the rows of the parts before it), then moves the members' balances
    by their sums in one pass; returns the sum of the points appended. Call it inside a
    transaction."""
    columns = "member_id, kind, points, at, lot_at, transaction_id, reason, created_by_id"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Through temporary tables: the rows appended, and no others, are summed. (One
            # statement, INSERT … RETURNING and the UPDATE in a WITH, spent over 300 s of
            # CPU on a million rows, against seconds this way.)
            pending = []
            for n, (kind, select, params) in enumerate(parts):
                table = f"loyalty_pending_{n}"
                cursor.execute(f"DROP TABLE IF EXISTS {table}")
                cursor.execute(f"CREATE TEMPORARY TABLE {table} AS {select}", params)
                cursor.execute(
                    f"INSERT INTO loyalty_pointsentry ({columns}) SELECT member_id, %s, points,"
                    f" at, lot_at, transaction_id, '', NULL FROM {table} WHERE points <> 0",
                    [kind])
                pending.append(f"SELECT member_id, points FROM {table}")
            added = " UNION ALL ".join(pending)
            cursor.execute(
                "UPDATE loyalty_member m SET balance = m.balance + s.points"
                f" FROM (SELECT member_id, SUM(points) AS points FROM ({added}) a"
                "  GROUP BY member_id) s WHERE s.member_id = m.id")
            cursor.execute(f"SELECT COALESCE(SUM(points), 0) FROM ({added}) a")
            total = int(cursor.fetchone()[0])
            for n in range(len(parts)):
                cursor.execute(f"DROP TABLE loyalty_pending_{n}")
            return total
        # SQLite: the transaction holds the write lock and ids only grow (AUTOINCREMENT),
        # so the rows past the last id before are these INSERTs'. Reading them back costs
        # less than a temporary table; the sort of GROUP BY is the cost, so once for all.
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM loyalty_pointsentry")
        before = cursor.fetchone()[0]
        for kind, select, params in parts:
            cursor.execute(
                f"INSERT INTO loyalty_pointsentry ({columns})"
                " SELECT q.member_id, %s, q.points, q.at, q.lot_at, q.transaction_id, '', NULL"
                f" FROM ({select}) q WHERE q.points <> 0", [kind, *params])
        # NOT INDEXED: the planner would read the whole ledger through its (member, at)
        # index to spare the GROUP BY its sort, rather than the rows past `before`; on
        # ten million entries a chunk's sums took 1.5 s instead of 0.45.
        added = "SELECT member_id, SUM(points) AS points FROM loyalty_pointsentry NOT INDEXED" \
            " WHERE id > %s GROUP BY member_id"
        cursor.execute(
            f"UPDATE loyalty_member SET balance = balance + s.points FROM ({added}) s"
            " WHERE s.member_id = loyalty_member.id", [before])
        cursor.execute("SELECT COALESCE(SUM(points), 0) FROM loyalty_pointsentry"
                       " WHERE id > %s", [before])
        return int(cursor.fetchone()[0])


def _not_yet(first_id: int, last_id: int, kind: str, transaction_id: str = "t.id") -> str:
    """The condition that a transaction has no entry of this kind yet, or nothing when no
    transaction in the range has one: the watermark (`earned_through`) keeps the job from
    looking at a range twice, so only `points_earn` of one transaction can have been there
    first, and probing the ledger for each of millions of rows cost a tenth of the time.
    (Should a run race another, the unique (transaction, kind) still refuses the second.)"""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM loyalty_pointsentry WHERE transaction_id BETWEEN %s AND %s"
                       " AND kind = %s LIMIT 1", [first_id, last_id, kind])
        if cursor.fetchone() is None:
            return ""
    return (" AND NOT EXISTS (SELECT 1 FROM loyalty_pointsentry x"
            f"  WHERE x.transaction_id = {transaction_id} AND x.kind = '{kind}')")


def _earn_select(programme: Programme, *, not_yet: str = "") -> str:
    """The entries that purchases earn, as (member_id, transaction_id, points, at, lot_at);
    its parameters: the programme's points per unit, then the first and last transaction
    id."""
    from kehu.loyalty.models import Campaign, CategoryRate

    rate = "COALESCE(c.multiplier, 1)" if CategoryRate.objects.exists() else "1"
    campaign = (
        "COALESCE((SELECT MAX(k.multiplier) FROM loyalty_campaign k"
        " WHERE k.starts_at <= t.occurred_at AND k.ends_at > t.occurred_at"
        " AND (k.category = '' OR k.category = t.category)), 1)"
        if Campaign.objects.exists() else "1"
    )
    rate_join = ("LEFT JOIN loyalty_categoryrate c ON c.category = t.category"
                 if rate != "1" else "")
    points = _floor(f"t.amount * %s * {rate} * {campaign} * (100 + COALESCE(r.bonus_percent, 0))"
                    " / 100")
    earn = (
        f"SELECT m.id AS member_id, t.id AS transaction_id, {points} AS points,"
        " t.occurred_at AS at, t.occurred_at AS lot_at"
        " FROM sales_transaction t"
        " JOIN loyalty_member m ON m.customer_id = t.customer_id"
        " LEFT JOIN loyalty_tier r ON r.id = m.tier_id"
        f" {rate_join}"
        " WHERE t.id BETWEEN %s AND %s AND t.kind = 'purchase'"
        " AND t.occurred_at >= m.joined_at"
        f"{not_yet}")
    return earn


def _earn_between(first_id: int, last_id: int, programme: Programme, *,
                  earned: str | None = None) -> None:
    """Earning on purchases first_id..last_id, then claw-backs on refunds in that range.
    `earned`: the table where _EarningsAhead computed the range's earnings, if it did."""
    if earned:
        earn = (f"SELECT member_id, transaction_id, points, at, lot_at FROM {earned} t"
                " WHERE 1 = 1" + _not_yet(first_id, last_id, PointsEntry.Kind.EARN,
                                          transaction_id="t.transaction_id"))
        earn_params = []
    else:
        earn = _earn_select(programme,
                            not_yet=_not_yet(first_id, last_id, PointsEntry.Kind.EARN))
        earn_params = [programme.points_per_unit, first_id, last_id]
    earned_on = "e.points * (COALESCE((SELECT SUM(o.amount) FROM sales_transaction o" \
        " WHERE o.refund_of_id = t.refund_of_id AND o.id < t.id), 0){plus}) / p.amount"
    taken = (f"{_floor(earned_on.format(plus=' + t.amount'))}"
             f" - {_floor(earned_on.format(plus=''))}")
    clawback = (
        f"SELECT e.member_id AS member_id, t.id AS transaction_id, -({taken}) AS points,"
        " t.occurred_at AS at, e.lot_at AS lot_at"
        " FROM sales_transaction t"
        " JOIN sales_transaction p ON p.id = t.refund_of_id"
        " JOIN loyalty_pointsentry e ON e.transaction_id = p.id AND e.kind = 'earn'"
        " WHERE t.id BETWEEN %s AND %s AND t.kind = 'refund'"
        f"{_not_yet(first_id, last_id, PointsEntry.Kind.CLAWBACK)}")
    # Claw-backs after the earnings: a refund may follow its purchase in the same range.
    _append_rows([
        (PointsEntry.Kind.EARN, earn, earn_params),
        (PointsEntry.Kind.CLAWBACK, clawback, [first_id, last_id]),
    ])


def points_earn_pending(*, chunk: int = EARN_CHUNK, progress=lambda done, total: None) -> int:
    """Earns points on every transaction recorded since the last run, and takes back the
    points of refunded purchases, in set-based SQL, one transaction per chunk of ids.
    Returns the number of transactions looked at. Each transaction earns at most once."""
    programme = programme_get()
    start = programme.earned_through + 1
    last = Transaction.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    ranges = [(first_id, min(first_id + chunk - 1, last))
              for first_id in range(start, last + 1, chunk)]
    # The entries are made from joins on the members and transactions they name, in the
    # transaction that writes them: SQLite checking each entry's parents again was a
    # tenth of the job. (Only outside a transaction can SQLite stop checking; PostgreSQL
    # always checks.)
    with connection.constraint_checks_disabled(), _EarningsAhead(programme, ranges) as ahead:
        for first_id, last_id in ranges:
            with ahead.attached(first_id) as earned, transaction.atomic():
                _earn_between(first_id, last_id, programme, earned=earned)
                Programme.objects.filter(pk=programme.pk).update(earned_through=last_id)
            progress(last_id - start + 1, last - start + 1)
    if last >= start:
        checkpoint(connection)
    return max(0, last - start + 1)


class _EarningsAhead:
    """On SQLite, while one chunk's entries are written, a thread computes the next chunk's
    earnings (the join of purchases, members and rules, a fifth of the work) on the
    otherwise idle core, into a database file of its own, which the writer then attaches
    and copies from. Used for more than one chunk, outside a transaction, on a database
    file (another connection sees only committed rows); otherwise each chunk computes its
    own (`attached` gives None). The files are in a directory removed at the end, whatever
    happens."""

    def __init__(self, programme: Programme, ranges: list[tuple[int, int]]):
        self.ranges = dict(ranges)
        self.used = (len(ranges) > 1 and connection.vendor == "sqlite"
                     and not connection.in_atomic_block and not connection.is_in_memory_db())
        if self.used:
            # Built here: the thread asks nothing of Django's connection.
            self.select = _earn_select(programme).replace("%s", "?")
            self.points_per_unit = programme.points_per_unit
            self.source = f"{Path(connection.settings_dict['NAME']).resolve().as_uri()}?mode=ro"

    def __enter__(self) -> "_EarningsAhead":
        if self.used:
            self.directory = tempfile.TemporaryDirectory(prefix="earning-",
                                                         dir=settings.DATA_DIR)
            self.thread = ThreadPoolExecutor(1, thread_name_prefix="earning-ahead")
            self._ask(next(iter(self.ranges)))
        return self

    def __exit__(self, *exc_info) -> None:
        if self.used:
            self.thread.shutdown(cancel_futures=True)
            self.directory.cleanup()

    def _ask(self, first_id: int) -> None:
        """Starts computing the chunk that begins at `first_id`: the one asked for next."""
        path = str(Path(self.directory.name) / f"{first_id}.sqlite3")
        self.computing = self.thread.submit(
            self._compute, path, first_id, self.ranges[first_id])

    def _compute(self, path: str, first_id: int, last_id: int) -> str:
        db = sqlite3.connect(path, uri=True)
        try:
            db.execute("PRAGMA journal_mode = OFF")  # a scratch file, removed after use
            db.execute("ATTACH DATABASE ? AS kehu", [self.source])
            # The select names kehu's tables unqualified: this database has none of them.
            db.execute(f"CREATE TABLE main.earned AS {self.select}",
                       [self.points_per_unit, first_id, last_id])
            db.commit()
        finally:
            db.close()
        return path

    @contextmanager
    def attached(self, first_id: int):
        """The table of this chunk's earnings, attached to the writer's connection (None
        when not computed ahead); asks for the next chunk's first."""
        if not self.used:
            yield None
            return
        path = self.computing.result()
        following = self.ranges[first_id] + 1
        if following in self.ranges:
            self._ask(following)
        with connection.cursor() as cursor:
            cursor.execute("ATTACH DATABASE %s AS earned_ahead", [path])
        try:
            yield "earned_ahead.earned"
        finally:
            with connection.cursor() as cursor:
                cursor.execute("DETACH DATABASE earned_ahead")
            os.unlink(path)


@transaction.atomic
def points_earn(*, transaction_: Transaction) -> PointsEntry | None:
    """Earns (or takes back, for a refund) the points of one transaction, right away.
    Idempotent: a transaction earns once, however often this runs."""
    _earn_between(transaction_.pk, transaction_.pk, programme_get())
    return PointsEntry.objects.filter(
        transaction=transaction_, kind__in=["earn", "clawback"]).first()


# --- Expiry ---------------------------------------------------------------------------------


@transaction.atomic
def points_expire(*, now: datetime | None = None) -> int:
    """Expires, FIFO by lot, the points of lots older than the programme's age.

    Debits (redemptions, earlier expiries, negative adjustments) use up the oldest lots
    first, so what is left of the old lots is their credits plus all debits; a claw-back
    counts against the lot it took back. Returns the points expired.
    """
    programme = programme_get()
    if not programme.expiry_days:
        return 0
    now = _now(now)
    cutoff = now - timedelta(days=programme.expiry_days)
    old_left = "SUM(CASE WHEN e.lot_at IS NULL OR e.lot_at <= %s THEN e.points ELSE 0 END)"
    return -_append_rows([(
        PointsEntry.Kind.EXPIRE,
        f"SELECT e.member_id AS member_id, {_typed('NULL', 'bigint')} AS transaction_id,"
        f" -{_least()}(m.balance, {old_left}) AS points, {_typed('%s')} AS at,"
        f" {_typed('NULL')} AS lot_at"
        " FROM loyalty_pointsentry e JOIN loyalty_member m ON m.id = e.member_id"
        " WHERE m.balance > 0"
        " GROUP BY e.member_id, m.balance"
        f" HAVING {old_left} > 0",
        [_dt(cutoff), _dt(now), _dt(cutoff)])])


# --- Tiers ----------------------------------------------------------------------------------


def _qualified(tiers: list[Tier], column: str) -> str:
    """The SQL of the highest tier whose threshold the member's metrics reach: a CASE over
    the tiers, highest first (thresholds are the tiers' own decimals, written as numbers so
    that SQLite compares them as numbers)."""
    source = {"spend": "s.spend", "visits": "s.visits", "points": "p.points"}
    whens = " ".join(f"WHEN COALESCE({source[t.metric]}, 0) >= {t.threshold}"
                     f" THEN {getattr(t, column)}" for t in tiers)
    return f"CASE {whens} ELSE {'NULL' if column == 'pk' else -1} END"


def tiers_evaluate(*, now: datetime | None = None) -> dict[str, int]:
    """The nightly evaluation: each member's tier from their spend, points or visits over
    the rolling window. Upgrades at once; a member who no longer qualifies keeps the tier
    for the grace period (a notice that it is at risk), then moves down. Every change is
    kept as tier history (and is the notice to send).

    Set-based: the window's aggregates and each member's verdict in one query into a
    temporary table of the members whose row changes; then one INSERT of the history and
    one UPDATE of those members."""
    now = _now(now)
    programme = programme_get()
    tiers = list(Tier.objects.order_by("-rank"))
    counts = {"upgrade": 0, "downgrade": 0, "at_risk": 0, "kept": 0}
    if not tiers:
        return counts
    since = _dt(now - timedelta(days=programme.window_days))
    grace = timedelta(days=programme.grace_days)
    at, grace_ends = _dt(now), _dt(now + grace)
    metrics = {t.metric for t in tiers}
    by_customer = []
    if "spend" in metrics:
        by_customer.append("SUM(CASE WHEN t.kind = 'refund' THEN -t.amount ELSE t.amount END)"
                           " AS spend")
    if "visits" in metrics:
        by_customer.append("SUM(CASE WHEN t.kind = 'purchase' THEN 1 ELSE 0 END) AS visits")
    sources, params = [], []
    if by_customer:
        sources.append(
            f"LEFT JOIN (SELECT t.customer_id, {', '.join(by_customer)}"
            " FROM sales_transaction t WHERE t.occurred_at >= %s GROUP BY t.customer_id) s"
            " ON s.customer_id = m.customer_id")
        params.append(since)
    if "points" in metrics:
        sources.append(
            "LEFT JOIN (SELECT member_id, SUM(points) AS points FROM loyalty_pointsentry"
            " WHERE at >= %s AND kind IN ('earn', 'clawback') GROUP BY member_id) p"
            " ON p.member_id = m.id")
        params.append(since)
    new_id, new_rank = _qualified(tiers, "pk"), _qualified(tiers, "rank")
    # A member who no longer qualifies: at risk (grace begins), or down once it is over.
    down = ("WHEN v.new_rank < v.old_rank AND v.grace_until IS NULL THEN 'at_risk'"
            if grace else "")
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS loyalty_tiering")
        cursor.execute(
            "CREATE TEMPORARY TABLE loyalty_tiering AS"
            " SELECT member_id, old_id, new_id, kind FROM ("
            "  SELECT v.*, CASE WHEN v.new_rank > v.old_rank THEN 'upgrade'"
            f"  {down}"
            "   WHEN v.new_rank < v.old_rank AND (v.grace_until IS NULL OR v.grace_until <= %s)"
            "    THEN 'downgrade'"
            "   WHEN v.new_rank = v.old_rank AND v.grace_until IS NOT NULL THEN 'kept'"
            "   END AS kind"
            "  FROM (SELECT m.id AS member_id, m.tier_id AS old_id,"
            "   COALESCE(o.rank, -1) AS old_rank, m.grace_until AS grace_until,"
            f"   {new_id} AS new_id, {new_rank} AS new_rank"
            "   FROM loyalty_member m LEFT JOIN loyalty_tier o ON o.id = m.tier_id"
            f"   {' '.join(sources)}) v) w"
            " WHERE kind IS NOT NULL",
            [at, *params])
        with transaction.atomic():
            cursor.execute(
                f"INSERT INTO {TierChange._meta.db_table}"
                " (member_id, kind, from_tier_id, to_tier_id, at)"
                " SELECT member_id, kind, old_id, new_id, %s FROM loyalty_tiering"
                " WHERE kind <> 'kept' ORDER BY member_id", [at])
            # tier_since only moves when the tier does.
            cursor.execute(
                "UPDATE loyalty_member SET"
                " tier_id = CASE WHEN w.kind IN ('upgrade', 'downgrade') THEN w.new_id"
                "  ELSE loyalty_member.tier_id END,"
                " tier_since = CASE WHEN w.kind IN ('upgrade', 'downgrade') THEN %s"
                "  ELSE loyalty_member.tier_since END,"
                " grace_until = CASE WHEN w.kind = 'at_risk' THEN %s END"
                " FROM loyalty_tiering w WHERE w.member_id = loyalty_member.id",
                [at, grace_ends])
            cursor.execute("SELECT kind, COUNT(*) FROM loyalty_tiering GROUP BY kind")
            counts.update(cursor.fetchall())
        cursor.execute("DROP TABLE loyalty_tiering")
    checkpoint(connection)
    return counts


# --- Rewards --------------------------------------------------------------------------------


def reward_redeem(*, actor: User | None, member: Member, reward: Reward, quantity: int = 1,
                  now: datetime | None = None) -> Redemption:
    """兑换: takes the points, the stock and writes the redemption in one step, or nothing."""
    _check(actor, Capability.LOYALTY_WORK, _("You may not redeem points."))
    now = _now(now)
    if not isinstance(quantity, int) or quantity < 1 or quantity > 100:
        raise ValidationError({"quantity": _("The quantity must be between 1 and 100.")})
    # On SQLite, redemptions at once wait in turn rather than in SQLite's sleeping retries
    # (p99 1.7 s with 8 writers); the transaction begins once it is this one's turn.
    with write_turn(connections[DEFAULT_DB_ALIAS]), transaction.atomic():
        return _redeem(actor=actor, member=member, reward=reward, quantity=quantity, now=now)


def _locked_balance(member: Member) -> tuple[int, int]:
    """The member's balance and tier rank (-1 for none), the member's row locked."""
    lock = " FOR UPDATE OF m" if connection.features.has_select_for_update else ""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT m.balance, COALESCE(t.rank, -1) FROM loyalty_member m"
            f" LEFT JOIN loyalty_tier t ON t.id = m.tier_id WHERE m.id = %s{lock}", [member.pk])
        row = cursor.fetchone()
    if row is None:  # removed since the page or request named them
        raise ValidationError({"member": _("This member no longer exists.")})
    return row


def _redeem(*, actor: User | None, member: Member, reward: Reward, quantity: int,
            now: datetime) -> Redemption:
    # In plain SQL: model instances and query building cost more than the database's work
    # here, and on SQLite every other redemption waits for them.
    # Always the member first, then the reward: two redemptions lock in the same order.
    balance, rank = _locked_balance(member)
    at = _dt(now)
    read = ("SELECT r.points, r.stock, r.is_active"
            " AND (r.valid_until IS NULL OR r.valid_until > %s), r.name, t.rank, t.name"
            " FROM loyalty_reward r LEFT JOIN loyalty_tier t ON t.id = r.min_tier_id"
            " WHERE r.id = %s")
    with connection.cursor() as cursor:
        cursor.execute(read, [at, reward.pk])
        row = cursor.fetchone()
        if row is None:
            raise ValidationError({"reward": _("This reward no longer exists.")})
        if row[1] is not None and connection.features.has_select_for_update:
            # Limited stock: the reward's row too. Unlimited ones need no lock, so
            # redemptions of one popular reward by different members do not queue on it.
            cursor.execute(f"{read} FOR UPDATE OF r", [at, reward.pk])
            row = cursor.fetchone()
        price, stock, available, name, min_rank, min_tier = row
        if not available:
            raise ValidationError({"reward": _("This reward is no longer available.")})
        if min_rank is not None and rank < min_rank:
            raise ValidationError({"reward": _(
                "This reward is for %(tier)s members and above.") % {"tier": min_tier}})
        if stock is not None and stock < quantity:
            raise ValidationError({"reward": _("Only %(n)d left in stock.") % {"n": stock}})
        points = price * quantity
        if balance < points:
            raise ValidationError({"points": _(
                "This needs %(points)d points; the member has %(balance)d.") % {
                "points": points, "balance": balance}})
        if stock is not None:
            cursor.execute("UPDATE loyalty_reward SET stock = stock - %s WHERE id = %s",
                           [quantity, reward.pk])
        actor_id = actor.pk if actor is not None else None
        cursor.execute(
            "INSERT INTO loyalty_pointsentry (member_id, kind, points, at, lot_at,"
            " transaction_id, reason, created_by_id) VALUES (%s, %s, %s, %s, NULL, NULL, %s, %s)"
            " RETURNING id",
            [member.pk, PointsEntry.Kind.REDEEM, -points, at, name[:200], actor_id])
        entry_id = cursor.fetchone()[0]
        cursor.execute("UPDATE loyalty_member SET balance = balance - %s WHERE id = %s",
                       [points, member.pk])
        cursor.execute(
            "INSERT INTO loyalty_redemption (member_id, reward_id, quantity, points, entry_id,"
            " at, created_by_id) VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id",
            [member.pk, reward.pk, quantity, points, entry_id, at, actor_id])
        redemption_id = cursor.fetchone()[0]
    member.balance = balance - points
    if stock is not None:
        reward.stock = stock - quantity
    return Redemption(pk=redemption_id, member=member, reward=reward, quantity=quantity,
                      points=points, entry_id=entry_id, at=now, created_by=actor)


# --- Offers ---------------------------------------------------------------------------------


@transaction.atomic
def offer_use(*, actor: User | None, offer: Offer, customer: Customer,
              now: datetime | None = None) -> OfferUse:
    """Records that the customer took the offer: only an eligible customer, within the limit."""
    from kehu.loyalty.selectors import offer_status

    _check(actor, Capability.LOYALTY_WORK, _("You may not record offers taken."))
    now = _now(now)
    # Lock the customer: two uses at once count each other.
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    status = offer_status(offer=offer, customer=customer, now=now)
    if not status.eligible:
        raise ValidationError({"offer": status.reason})
    return OfferUse.objects.create(offer=offer, customer=customer, at=now, created_by=actor)
