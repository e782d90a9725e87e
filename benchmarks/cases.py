"""Service case benchmarks: the filtered case list and the SLA breach sweep at scale.

Prints figures and a PASS/FAIL line per target; never asserts. See benchmarks/README.md.

    .venv/bin/python benchmarks/cases.py                  # 1,000,000 cases (200,000 open), SQLite
    .venv/bin/python benchmarks/cases.py --cases 100000   # a quicker look
    .venv/bin/python benchmarks/cases.py --database-url postgresql://kehu@localhost/kehu_bench
"""

import argparse
import json
import math
import os
import random
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work"
sys.path.insert(0, str(HERE.parent / "src"))

LIST_TARGET_MS = 100.0  # p95, server-side
SWEEP_TARGET_S = 5.0
OPEN_STATUSES = ("new", "acknowledged", "in_progress", "waiting")
TEAMS = ("一组", "二组", "三组", "大客户组", "售后组", "投诉组", "夜班", "华东", "华南", "华北")
SUBJECTS = ("空调不制冷", "发票开错了", "送货迟到三天", "优惠券无法使用", "安装师傅态度差",
            "退款还没到账", "产品外包装破损", "承诺的回电没有打", "想咨询保修期", "表扬王师傅")
HOUR, DAY = 3600, 86400


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="kehu case list and SLA sweep benchmarks")
    parser.add_argument("--cases", type=int, default=1_000_000,
                        help="cases to load (default 1,000,000; a fifth of them open)")
    parser.add_argument("--agents", type=int, default=200, help="agents owning the cases")
    parser.add_argument("--requests", type=int, default=200,
                        help="case list requests per filter combination (default 200)")
    parser.add_argument("--database-url", default="",
                        help="PostgreSQL URL instead of a fresh SQLite file; that database is "
                             "emptied (Django's flush) before loading")
    parser.add_argument("--seed", type=int, default=20260316)
    parser.add_argument("--measure-only", action="store_true",
                        help="measure what the last load left (the sweep then has less to do)")
    parser.add_argument("--results-json", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args()


def setup_django(database_url: str, *, keep: bool) -> str:
    WORK.mkdir(parents=True, exist_ok=True)
    os.environ["KEHU_DATA_DIR"] = str(WORK)
    if database_url:
        os.environ["KEHU_DATABASE_URL"] = database_url
        where = database_url.rsplit("@", 1)[-1]
    else:
        database = WORK / "cases.sqlite3"
        if not keep:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{database}{suffix}").unlink(missing_ok=True)
        os.environ["KEHU_DATABASE_URL"] = f"sqlite:///{database}"
        where = str(database.relative_to(HERE.parent))
    os.environ["DJANGO_SETTINGS_MODULE"] = "kehu.config.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("collectstatic", "--no-input", verbosity=0)  # pages name hashed files
    return where


# ---------------------------------------------------------------- data

def users_create(agents: int) -> list[int]:
    from kehu.users.models import User

    User.objects.bulk_create(
        [User(username=f"agent{n:03d}", role="agent", first_name=f"客服{n:03d}")
         for n in range(agents)]
        + [User(username="supervisor", role="supervisor"), User(username="analyst",
                                                                role="analyst")])
    return list(User.objects.filter(role="agent").order_by("pk").values_list("pk", flat=True))


def customers_create(count: int, rng: random.Random) -> tuple[int, int]:
    """Plain individual customers (the search index rows come with them, by trigger)."""
    from kehu.customers.models import Customer

    surnames = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
    given = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚"
    batch = []
    for n in range(count):
        name = rng.choice(surnames) + "".join(rng.choices(given, k=rng.choice((1, 2))))
        batch.append(Customer(number=f"K{n + 1:07d}", kind="individual", name=name))
        if len(batch) == 5000:
            Customer.objects.bulk_create(batch)
            batch = []
    Customer.objects.bulk_create(batch)
    ids = Customer.objects.order_by("pk").values_list("pk", flat=True)
    return ids.first(), ids.last()


def case_rows(count: int, *, agents: list[int], customers: tuple[int, int], categories: list[int],
              root_causes: list[int], calendar: int, policy: int, now: int,
              rng: random.Random):
    """Tuples of service_case columns, oldest first, with realistic mixes.

    A fifth are open, opened in the last few weeks; the rest were resolved or closed over
    three years. Of the open cases whose clock runs, about 8% were already recorded
    breached, 5% are past a due time the sweep has not seen yet (it records those breaches)
    and 5% past a warning time (it records those warnings); 12% were warned before; the
    rest are on track. 15% of the open cases wait on the customer, their clocks paused.
    """
    open_count = count // 5
    flags = [True] * open_count + [False] * (count - open_count)
    created = [now - int(min(rng.expovariate(1 / (6 * DAY)), 60 * DAY)) if is_open
               else now - rng.randrange(DAY, 3 * 365 * DAY) for is_open in flags]
    order = sorted(range(count), key=created.__getitem__)
    kinds = ("complaint",) * 9 + ("request",) * 6 + ("inquiry",) * 4 + ("praise",)
    channels = ("phone",) * 5 + ("email",) * 2 + ("web", "sms", "social", "visit", "letter")
    priorities = ("normal",) * 12 + ("high",) * 4 + ("low",) * 3 + ("urgent",)
    open_statuses = ("new",) * 6 + ("acknowledged",) * 4 + ("in_progress",) * 7 + ("waiting",) * 3
    low, high = customers
    # A few customers complain a lot, most rarely: draw customers from a skewed distribution.
    customer_span = high - low + 1
    for number, index in enumerate(order, start=1):
        is_open, opened = flags[index], created[index]
        kind = rng.choice(kinds)
        status = rng.choice(open_statuses) if is_open else ("resolved" if rng.random() < 0.12
                                                            else "closed")
        fr_minutes, res_minutes = rng.choice(((60, 480), (120, 960), (240, 1440), (30, 240)))
        fr_due = opened + fr_minutes * 60 * rng.choice((1, 2, 3))  # business hours stretch
        res_due = opened + res_minutes * 60 * rng.choice((2, 3, 4))
        fr_warn = opened + (fr_due - opened) * 4 // 5
        res_warn = opened + (res_due - opened) * 4 // 5
        responded = resolved = paused = fr_breach = res_breach = warned = None
        if not is_open:
            late = rng.random() < 0.12
            responded = opened + int((fr_due - opened) * (1.3 if late else rng.random()))
            resolved = opened + int((res_due - opened) * (1.5 if late else rng.uniform(0.3, 1)))
            if late:
                fr_breach, res_breach, warned = fr_due, res_due, fr_warn
            resolved = min(resolved, now - 60)
            responded = min(responded, resolved)
        else:
            if status != "new":
                responded = opened + int((fr_due - opened) * rng.random())
            due_name = "fr" if responded is None else "res"
            roll = rng.random()
            if status == "waiting":
                paused = max(opened, now - rng.randrange(HOUR, 3 * DAY))
            elif roll < 0.08:  # breached, recorded
                due = now - rng.randrange(HOUR, 5 * DAY)
                warned = due - HOUR
            elif roll < 0.13:  # due passed since the last sweep: the sweep records it
                due = now - rng.randrange(0, 600)
                warned = due - HOUR
            elif roll < 0.18:  # warning time passed since the last sweep
                due = now + rng.randrange(20 * 60, 4 * HOUR)
            elif roll < 0.30:  # warned before
                due = now + rng.randrange(20 * 60, 4 * HOUR)
                warned = now - rng.randrange(60, 15 * 60)
            else:
                due = now + rng.randrange(4 * HOUR, 5 * DAY)
            if status != "waiting":
                start = min(opened, due - HOUR)
                warn = due - (due - start) // 5
                if roll < 0.13 and warned is None:
                    warned = warn
                if 0.13 <= roll < 0.18:
                    warn = now - rng.randrange(0, 600)
                elif warned is None and warn <= now:
                    warned = warn  # earlier sweeps warned every case past its warning time
                if due_name == "fr":
                    fr_due, fr_warn = due, warn
                    res_due, res_warn = max(res_due, due + DAY), max(res_warn, due + HOUR)
                else:
                    res_due, res_warn = due, warn
                    fr_due, fr_warn = min(fr_due, responded + 1), min(fr_warn, responded)
                if roll < 0.08:
                    if due_name == "fr":
                        fr_breach = due
                    else:
                        res_breach = due
        owner = rng.choice(agents) if rng.random() > 0.03 else None
        customer = low + min(int(rng.paretovariate(1.2)) - 1, customer_span - 1) \
            if rng.random() < 0.2 else rng.randrange(low, high + 1)
        yield (
            f"B{number:08d}", kind, rng.choice(channels),
            rng.choice(categories) if kind == "complaint" else None, rng.choice(priorities),
            customer, None, rng.choice(SUBJECTS), "", owner, rng.choice(TEAMS), status, 1, owner,
            opened, max(opened, responded or opened, resolved or opened), policy, calendar,
            fr_minutes, res_minutes, fr_due, res_due, fr_warn, res_warn, responded, resolved,
            None if responded is None else fr_minutes // 2,
            None if resolved is None else res_minutes // 2,
            "[]", paused, fr_breach, res_breach, warned,
            # A resolved complaint records its root cause.
            rng.choice(root_causes) if kind == "complaint" and resolved else None, "",
        )


CASE_COLUMNS = (
    "reference", "kind", "channel", "category_id", "priority", "customer_id", "contact_id",
    "subject", "description", "owner_id", "team", "status", "version", "created_by_id",
    "created_at", "updated_at", "sla_policy_id", "calendar_id", "first_response_minutes",
    "resolution_minutes", "first_response_due_at", "resolution_due_at", "first_response_warn_at",
    "resolution_warn_at", "first_responded_at", "resolved_at", "first_response_business_minutes",
    "resolution_business_minutes", "sla_pauses", "sla_paused_at", "first_response_breached_at",
    "resolution_breached_at", "warned_at", "root_cause_id", "root_cause_note",
)
TIME_COLUMNS = [i for i, c in enumerate(CASE_COLUMNS)
                if c.endswith("_at") and c not in ("created_by_id",)]


def cases_load(rows, connection) -> int:
    """Bulk inserts: executemany on SQLite, COPY on PostgreSQL; instants as each stores them."""
    postgres = connection.vendor == "postgresql"

    def instant(seconds):
        if seconds is None:
            return None
        value = datetime.fromtimestamp(seconds, UTC)
        return value if postgres else value.strftime("%Y-%m-%d %H:%M:%S")

    def converted(row):
        row = list(row)
        for i in TIME_COLUMNS:
            row[i] = instant(row[i])
        return row

    loaded = 0
    columns = ", ".join(CASE_COLUMNS)
    with connection.cursor() as cursor:
        if postgres:
            with cursor.cursor.copy(f"COPY service_case ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(converted(row))
                    loaded += 1
        else:
            raw = cursor.cursor
            sql = (f"INSERT INTO service_case ({columns}) VALUES "
                   f"({', '.join('?' * len(CASE_COLUMNS))})")
            batch = []
            for row in rows:
                batch.append(converted(row))
                if len(batch) == 20_000:
                    raw.executemany(sql, batch)
                    loaded += len(batch)
                    batch = []
            raw.executemany(sql, batch)
            loaded += len(batch)
    return loaded


def load(args) -> None:
    from django.core.management import call_command
    from django.db import connection, transaction

    from kehu.service import seeds, services
    from kehu.service.models import (
        AuthorityLimit,
        Case,
        ComplaintCategory,
        RootCause,
        SlaPolicy,
        default_hours,
    )

    rng = random.Random(args.seed)
    started = time.perf_counter()
    if args.database_url:
        call_command("flush", interactive=False, verbosity=0)
    with transaction.atomic():
        agents = users_create(args.agents)
        customers = customers_create(max(args.cases // 10, 1000), rng)
        calendar = services.calendar_create(name="客服中心", time_zone="Asia/Shanghai",
                                            hours=default_hours(), region="CN")
        policy = SlaPolicy.objects.create(name="默认", first_response_minutes=120,
                                          resolution_minutes=960)
        # flush empties the categories the migrations seeded; a fresh SQLite file has them.
        categories = [ComplaintCategory.objects.get_or_create(code=code,
                                                              defaults={"name": name})[0].pk
                      for code, name in (("product", "Product"), ("service", "Service"),
                                         ("commitment", "Broken commitment"),
                                         ("offer", "Offer or discount"), ("other", "Other"))]
        seeds.seed(root_cause_model=RootCause, authority_limit_model=AuthorityLimit)
        root_causes = list(RootCause.objects.values_list("pk", flat=True))
        print(f"  users, {customers[1] - customers[0] + 1:,} customers, calendar: "
              f"{time.perf_counter() - started:.1f} s", flush=True)
        loaded = cases_load(
            case_rows(args.cases, agents=agents, customers=customers, categories=categories,
                      root_causes=root_causes, calendar=calendar.pk, policy=policy.pk, now=int(time.time()), rng=rng),
            connection)
    seconds = time.perf_counter() - started
    print(f"  {loaded:,} cases loaded in {seconds:.1f} s "
          f"({Case.objects.filter(status__in=OPEN_STATUSES).count():,} open)")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # what autovacuum does after a bulk load
            cursor.execute("ANALYZE")


# ---------------------------------------------------------------- measuring

def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)

    def rank(q: float) -> float:  # nearest-rank percentile
        return ordered[max(0, math.ceil(q * len(ordered)) - 1)]

    return {"p50": rank(0.50), "p95": rank(0.95), "p99": rank(0.99), "max": ordered[-1]}


# (label, query, as an agent owning cases) — the case list's filters: status, owner ("mine"),
# service-level state; the first page mostly, some later pages.
COMBINATIONS = [
    ("open (default)", {}, False),
    ("status in progress", {"status": "in_progress"}, False),
    ("status new", {"status": "new"}, False),
    ("all statuses", {"status": "all"}, False),
    ("open, owner", {"mine": "1"}, True),
    ("all, owner", {"status": "all", "mine": "1"}, True),
    ("open, breached", {"sla": "breached"}, False),
    ("open, warning", {"sla": "warning"}, False),
    ("open, on track", {"sla": "on_track"}, False),
    ("open, owner, breached", {"mine": "1", "sla": "breached"}, True),
    ("open, owner, warning", {"mine": "1", "sla": "warning"}, True),
    ("in progress, owner, on track", {"status": "in_progress", "mine": "1", "sla": "on_track"},
     True),
    ("all, breached", {"status": "all", "sla": "breached"}, False),
]
# Measured and printed (20 requests), outside the target: the frequent-complainant
# filter.
EXTRA = [("open, frequent complainants", {"complainants": "1"}, False)]


def measure_list(args, rng: random.Random) -> dict[str, dict]:
    """The real view with the real selector and template, through RequestFactory: what a
    request costs the server after the middleware has found the user."""
    from django.test import RequestFactory

    from kehu.service.views import case_list
    from kehu.users.models import User

    factory = RequestFactory()
    agents = list(User.objects.filter(role="agent"))
    supervisor = User.objects.get(username="supervisor")
    results = {}
    print(f"\ncase list: {args.requests} requests per filter (after 20 unmeasured), "
          "server-side (view, selector, template); the CPU time this process spent is a "
          "figure less at the mercy of other work on the machine")
    for label, query, as_agent in COMBINATIONS + EXTRA:
        timings, cpu, shown = [], [], 0
        requests = args.requests if (label, query, as_agent) in COMBINATIONS else 20
        for n in range(requests + 20):
            params = dict(query)
            if rng.random() < 0.2:
                params["page"] = str(rng.randint(2, 5))
            request = factory.get("/cases/", params)
            request.user = rng.choice(agents) if as_agent else supervisor
            started, started_cpu = time.perf_counter(), time.process_time()
            response = case_list(request)
            elapsed = (time.perf_counter() - started) * 1000
            if n >= 20:
                timings.append(elapsed)
                cpu.append((time.process_time() - started_cpu) * 1000)
                shown += response.content.count(b'href="/cases/') > 0
        figures = percentiles(timings)
        results[label] = figures | {"cpu_p95": percentiles(cpu)["p95"]}
        print(f"  {label:<32} " + "  ".join(f"{k} {v:7.2f} ms" for k, v in figures.items())
              + f"  | CPU p95 {results[label]['cpu_p95']:6.2f} ms"
              + ("" if shown else "  (no rows shown!)"))
    return results


def measure_sweep() -> tuple[float, dict, float]:
    from django.utils import timezone

    from kehu.service import services

    started = time.perf_counter()
    found = services.case_sla_sweep(now=timezone.now())
    seconds = time.perf_counter() - started
    started = time.perf_counter()
    services.case_sla_sweep(now=timezone.now())
    idle = time.perf_counter() - started
    return seconds, found, idle


def measure(args) -> dict:
    from django.db import connection

    from kehu.service.models import Case

    print(f"measuring {Case.objects.count():,} cases "
          f"({Case.objects.filter(status__in=OPEN_STATUSES).count():,} open), "
          f"database {connection.vendor}")
    lists = measure_list(args, random.Random(args.seed + 1))
    running = Case.objects.filter(status__in=OPEN_STATUSES, sla_paused_at__isnull=True).count()
    print(f"\nbreach sweep over {Case.objects.filter(status__in=OPEN_STATUSES).count():,} open "
          f"cases ({running:,} with a running clock)")
    seconds, found, idle = measure_sweep()
    print(f"  recorded {found}: {seconds:.2f} s; the next sweep, with nothing new: {idle:.3f} s")
    return {"lists": lists, "sweep": seconds, "found": found, "idle": idle}


# ---------------------------------------------------------------- main

def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main() -> None:
    args = parse_args()
    where = setup_django(args.database_url, keep=args.measure_only)
    from django.db import connection, connections

    if args.measure_only:
        results = measure(args)
        if args.results_json:
            args.results_json.write_text(json.dumps(results))
        else:
            print_verdicts(args, results)
        return
    print(f"database: {connection.vendor} ({where}); python {sys.version.split()[0]}; "
          f"{os.cpu_count()} cpus")
    print(f"\nloading {args.cases:,} cases:")
    load(args)
    # Measured from a new process, as a web server's would be: not the one that just built
    # and freed a million rows.
    connections.close_all()
    out = WORK / "cases-results.json"
    out.unlink(missing_ok=True)
    command = [sys.executable, __file__, "--measure-only", "--cases", str(args.cases),
               "--requests", str(args.requests), "--seed", str(args.seed),
               "--results-json", str(out)]
    if args.database_url:
        command += ["--database-url", args.database_url]
    print("\n(measuring from a new process)", flush=True)
    subprocess.run(command, check=True)
    print_verdicts(args, json.loads(out.read_text()))


def print_verdicts(args, results: dict) -> None:
    print("\nresults:")
    scale = "" if args.cases == 1_000_000 else f" (at {args.cases:,} cases, the targets are " \
        "set for 1,000,000)"
    targeted = {label: results["lists"][label] for label, _q, _a in COMBINATIONS}
    worst_label, worst = max(targeted.items(), key=lambda item: item[1]["p95"])
    print(f"  {verdict(worst['p95'] < LIST_TARGET_MS)} case list filtered by status, owner and "
          f"SLA state: worst p95 {worst['p95']:.1f} ms ({worst_label}; its CPU p95 "
          f"{worst['cpu_p95']:.1f} ms) (target < {LIST_TARGET_MS:g} ms){scale}")
    print(f"  {verdict(results['sweep'] < SWEEP_TARGET_S)} breach sweep over all open cases "
          f"{results['sweep']:.2f} s (target < {SWEEP_TARGET_S:g} s){scale}")


if __name__ == "__main__":
    main()
