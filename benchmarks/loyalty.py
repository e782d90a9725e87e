"""Loyalty benchmarks: earning on transactions, the nightly tier evaluation, and the
latency of redemptions under concurrent load.

Prints figures and a PASS/FAIL line per target; never asserts. See benchmarks/README.md.

    .venv/bin/python benchmarks/loyalty.py                    # 1,000,000 members, 10,000,000 txns
    .venv/bin/python benchmarks/loyalty.py --members 100000   # a quicker look
    .venv/bin/python benchmarks/loyalty.py --database-url postgresql://kehu@localhost/kehu_bench

The targets are for the full size; at a smaller size the line also gives the time scaled
linearly to it (earning and evaluation are set-based, so roughly linear).
"""

import argparse
import os
import random
import statistics
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work"
sys.path.insert(0, str(HERE.parent / "src"))

FULL_MEMBERS = 1_000_000
EARN_TARGET_S = 60.0  # 10,000,000 transactions for 1,000,000 members
TIERS_TARGET_S = 60.0  # 1,000,000 members
REDEEM_TARGET_MS = 20.0  # p99 under concurrent load


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="kehu loyalty benchmarks")
    parser.add_argument("--members", type=int, default=FULL_MEMBERS)
    parser.add_argument("--per-member", type=int, default=10,
                        help="transactions per member (default 10)")
    parser.add_argument("--redemptions", type=int, default=2000,
                        help="redemptions in the concurrent load (default 2,000)")
    parser.add_argument("--threads", type=int, default=8,
                        help="concurrent redeeming threads, each with its own connection")
    parser.add_argument("--database-url", default="",
                        help="PostgreSQL URL instead of a fresh SQLite file; that database is "
                             "emptied (Django's flush) first: use one made for the benchmark")
    parser.add_argument("--seed", type=int, default=20240601)
    return parser.parse_args()


def setup_django(database_url: str) -> str:
    WORK.mkdir(parents=True, exist_ok=True)
    os.environ["KEHU_DATA_DIR"] = str(WORK)
    if database_url:
        os.environ["KEHU_DATABASE_URL"] = database_url
        where = database_url.rsplit("@", 1)[-1]
    else:
        database = WORK / "loyalty.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)
        os.environ["KEHU_DATABASE_URL"] = f"sqlite:///{database}"
        where = str(database.relative_to(HERE.parent))
    os.environ["DJANGO_SETTINGS_MODULE"] = "kehu.config.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if database_url:
        call_command("flush", interactive=False, verbosity=0)
    return where


def populate(members: int, per_member: int, seed: int) -> None:
    """Customers, members (joined two years ago) and transactions over the last year, with
    one purchase in twenty refunded in half. Customers go in through the import's fast
    insert; members and transactions are made by the database itself."""
    from django.db import connection, transaction
    from django.utils import timezone

    from kehu.customers.models import Customer
    from kehu.customers.transfer import _insert
    from kehu.loyalty.models import Programme, Tier

    random.seed(seed)
    now = timezone.now()
    started = time.perf_counter()
    with transaction.atomic():
        for start in range(0, members, 100_000):
            block = range(start, min(members, start + 100_000))
            _insert(Customer, {"number": [f"B{i:09d}" for i in block],
                               "kind": ["individual"] * len(block),
                               "name": [f"会员{i}" for i in block]}, now=now)
    pg = connection.vendor == "postgresql"
    joined = connection.ops.adapt_datetimefield_value(now.replace(year=now.year - 2))
    created = connection.ops.adapt_datetimefield_value(now)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO loyalty_member (customer_id, number, joined_at, balance)"
            " SELECT id, 'M' || id, %s, 0 FROM customers_customer", [joined])
        if pg:
            series = f"generate_series(1, {per_member}) AS k(i)"
            when = "now() - (random() * 360 || ' days')::interval"
            amount = "round((1 + random() * 499)::numeric, 2)"
            category = "(ARRAY['tea', 'cake', 'gift', 'other'])[1 + floor(random() * 4)::int]"
        else:
            series = (f"(WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k"
                      f" WHERE i < {per_member}) SELECT i FROM k) k")
            when = "datetime('now', '-' || (abs(random()) % 31104000) || ' seconds')"
            amount = "1 + (abs(random()) % 49900) / 100.0"
            category = ("CASE abs(random()) % 4 WHEN 0 THEN 'tea' WHEN 1 THEN 'cake'"
                        " WHEN 2 THEN 'gift' ELSE 'other' END")
        cursor.execute(
            "INSERT INTO sales_transaction (customer_id, kind, occurred_at, amount, currency,"
            " product, category, channel, created_at)"
            f" SELECT c.id, 'purchase', {when}, {amount}, 'CNY', '', {category}, 'shop', %s"
            f" FROM customers_customer c CROSS JOIN {series}", [created])
        cursor.execute(
            "INSERT INTO sales_transaction (customer_id, kind, occurred_at, amount, currency,"
            " product, category, channel, created_at, refund_of_id)"
            " SELECT customer_id, 'refund', occurred_at, round(amount / 2.0, 2), currency, '',"
            " category, channel, created_at, id FROM sales_transaction"
            " WHERE id % 20 = 0")
        Programme.objects.update_or_create(pk=1, defaults={"window_days": 365})
        Tier.objects.create(name="Silver", rank=1, metric="spend", threshold=0)
        Tier.objects.create(name="Gold", rank=2, metric="spend", threshold=3000, bonus_percent=10)
        Tier.objects.create(name="Platinum", rank=3, metric="visits", threshold=12,
                            bonus_percent=25)
        from kehu.loyalty.models import CategoryRate

        CategoryRate.objects.create(category="tea", multiplier=2)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # statistics for the planner, as a nightly job would have
    print(f"populated {members:,} members and {members * per_member:,} purchases"
          f" (+5% refunds) in {time.perf_counter() - started:.1f} s")


def redemption_load(total: int, threads: int, members: int) -> list[float]:
    """Redemptions of random members from `threads` threads at once; latencies in ms."""
    from django.core.exceptions import ValidationError
    from django.db import connections

    from kehu.loyalty import services
    from kehu.loyalty.models import Member, Reward

    reward = Reward.objects.create(name="Cup", points=1)
    ids = list(Member.objects.order_by("?").values_list("pk", flat=True)[:5000])
    latencies: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(threads)
    per_thread = total // threads

    def run(n: int) -> None:
        rnd = random.Random(n)
        mine = []
        barrier.wait()
        for _ in range(per_thread):
            member = Member(pk=rnd.choice(ids))
            start = time.perf_counter()
            try:
                services.reward_redeem(actor=None, member=member, reward=reward)
            except ValidationError:
                pass
            mine.append((time.perf_counter() - start) * 1000)
        connections.close_all()
        with lock:
            latencies.extend(mine)

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return latencies


def cpu_seconds() -> float:
    """CPU time spent so far by this process and, on PostgreSQL on this machine, by its
    server process: on a shared machine wall time says more about the neighbours."""
    from django.db import connection

    spent = time.process_time()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # a server elsewhere: only this process's share
            return spent
        spent += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return spent


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main() -> None:
    args = parse_args()
    where = setup_django(args.database_url)
    from django.db import connection
    from django.db.models import Sum

    from kehu.loyalty import services
    from kehu.loyalty.models import Member, PointsEntry

    print(f"database: {where} ({connection.vendor})")
    populate(args.members, args.per_member, args.seed)
    scale = FULL_MEMBERS / args.members

    started, cpu = time.perf_counter(), cpu_seconds()
    looked_at = services.points_earn_pending()
    earn_s, earn_cpu = time.perf_counter() - started, cpu_seconds() - cpu
    entries = PointsEntry.objects.count()
    print(f"earning: {looked_at:,} transactions -> {entries:,} ledger entries in {earn_s:.1f} s"
          f" ({looked_at / earn_s:,.0f} transactions/s); CPU {earn_cpu:.1f} s,"
          f" {earn_cpu / looked_at * 1e6:.2f} µs per transaction")
    ledger = PointsEntry.objects.aggregate(s=Sum("points"))["s"]
    balances = Member.objects.aggregate(s=Sum("balance"))["s"]
    print(f"  ledger sum {ledger:,} = balances sum {balances:,}: {ledger == balances}")

    started, cpu = time.perf_counter(), cpu_seconds()
    counts = services.tiers_evaluate()
    tiers_s, tiers_cpu = time.perf_counter() - started, cpu_seconds() - cpu
    print(f"tier evaluation: {args.members:,} members in {tiers_s:.1f} s {counts};"
          f" CPU {tiers_cpu:.1f} s, {tiers_cpu / args.members * 1e6:.2f} µs per member")

    started, cpu = time.perf_counter(), time.process_time()
    latencies = redemption_load(args.redemptions, args.threads, args.members)
    redeem_s, redeem_cpu = time.perf_counter() - started, time.process_time() - cpu
    latencies.sort()
    p50 = statistics.median(latencies)
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    print(f"redemptions: {len(latencies):,} from {args.threads} threads,"
          f" p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {latencies[-1]:.1f} ms;"
          f" {redeem_s:.1f} s in all, CPU of this process {redeem_cpu:.1f} s,"
          f" {redeem_cpu / len(latencies) * 1000:.2f} ms per redemption")
    ledger = PointsEntry.objects.aggregate(s=Sum("points"))["s"]
    balances = Member.objects.aggregate(s=Sum("balance"))["s"]
    negative = Member.objects.filter(balance__lt=0).count()
    print(f"  after: ledger sum = balances sum: {ledger == balances};"
          f" members below zero (claw-backs only): {negative:,}")

    full = args.members == FULL_MEMBERS and args.per_member == 10
    note = "" if full else f" (measured at {args.members:,} members; scaled to 1,000,000)"
    print("targets:")
    print(f"  {verdict(earn_s * scale < EARN_TARGET_S)} earning on 10,000,000 transactions"
          f" {earn_s * scale:.1f} s < {EARN_TARGET_S:.0f} s (CPU {earn_cpu * scale:.1f} s){note}")
    print(f"  {verdict(tiers_s * scale < TIERS_TARGET_S)} tier evaluation of 1,000,000 members"
          f" {tiers_s * scale:.1f} s < {TIERS_TARGET_S:.0f} s (CPU {tiers_cpu * scale:.1f} s)"
          f"{note}")
    print(f"  {verdict(p99 < REDEEM_TARGET_MS)} redemption p99 {p99:.1f} ms"
          f" < {REDEEM_TARGET_MS:.0f} ms ({args.threads} threads)")


if __name__ == "__main__":
    main()
