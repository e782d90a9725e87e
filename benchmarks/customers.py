"""Customer archive benchmarks: CSV import speed and search latency at scale.

Prints figures and a PASS/FAIL line per target; never asserts. See benchmarks/README.md.

    .venv/bin/python benchmarks/customers.py                   # 1,000,000 customers, SQLite
    .venv/bin/python benchmarks/customers.py --customers 100000
    .venv/bin/python benchmarks/customers.py --database-url postgresql://kehu@localhost/kehu_bench
"""

import argparse
import cProfile
import csv
import json
import math
import os
import pstats
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work"
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))

import generate  # noqa: E402  (benchmarks/generate.py)

IMPORT_TARGET = 20_000  # rows/s
PHONE_TARGET_MS = 5.0  # p99
NAME_TARGET_MS = 50.0  # p99
# Characters that are in no generated name: queries made of them must find nothing.
RARE_CHARS = "龘靐齉爩鱻麤龖厵灥癵驫"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="kehu customer import and search benchmarks")
    parser.add_argument("--customers", type=int, default=1_000_000,
                        help="customers to import before searching (default 1,000,000)")
    parser.add_argument("--compare-rows", type=int, default=10_000,
                        help="rows for the django-import-export comparison (0 skips it)")
    parser.add_argument("--queries", type=int, default=1000, help="queries per search benchmark")
    parser.add_argument("--database-url", default="",
                        help="PostgreSQL URL instead of a fresh SQLite file; that database is "
                             "emptied (Django's flush) before each import")
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--profile", action="store_true",
                        help="run the main import under cProfile and print the top functions")
    parser.add_argument("--skip-search", action="store_true")
    parser.add_argument("--search-only", action="store_true",
                        help="search the customers a previous run imported (same --customers "
                             "and --seed); no import")
    parser.add_argument("--results-json", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args()


def setup_django(database_url: str, *, keep: bool = False) -> str:
    WORK.mkdir(parents=True, exist_ok=True)
    os.environ["KEHU_DATA_DIR"] = str(WORK)
    if database_url:
        os.environ["KEHU_DATABASE_URL"] = database_url
        where = database_url.rsplit("@", 1)[-1]
    else:
        database = WORK / "bench.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            if not keep:
                Path(f"{database}{suffix}").unlink(missing_ok=True)
        os.environ["KEHU_DATABASE_URL"] = f"sqlite:///{database}"
        where = str(database.relative_to(HERE.parent))
    os.environ["DJANGO_SETTINGS_MODULE"] = "kehu.config.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return where


def empty_database() -> None:
    """Every import starts from empty tables, as on a new installation."""
    from django.core.management import call_command
    from django.db import connection

    call_command("flush", interactive=False, verbosity=0)
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM")
    owners_create()


def owners_create() -> None:
    from kehu.users.models import User

    for username in generate.OWNERS:
        User.objects.get_or_create(username=username)


def csv_file(count: int, seed: int) -> Path:
    path = WORK / f"customers-{count}-{seed}-v{generate.VERSION}.csv"
    if not path.exists():
        started = time.perf_counter()
        generate.write_csv(path, count, seed)
        print(f"generated {path.relative_to(HERE.parent)} ({count:,} rows) in "
              f"{time.perf_counter() - started:.1f} s")
    return path


def head_csv(path: Path, count: int) -> Path:
    """The first `count` data rows of a generated file, as a file of their own."""
    target = path.with_name(f"{path.stem}-head{count}.csv")
    if not target.exists():
        with path.open(encoding="utf-8-sig", newline="") as source, \
                target.open("w", encoding="utf-8-sig", newline="") as out:
            reader, writer = csv.reader(source), csv.writer(out)
            writer.writerow(next(reader))
            for _, row in zip(range(count), reader, strict=False):
                writer.writerow(row)
    return target


def rate(rows: int, seconds: float) -> float:
    return rows / seconds if seconds else float("inf")


# ---------------------------------------------------------------- import

def kehu_import(path: Path, *, profile: bool = False):
    from kehu.customers.transfer import import_file

    data = path.read_bytes()
    chunks = []
    # CPU time, not wall time: other work on the machine does not count.
    profiler = cProfile.Profile(time.process_time) if profile else None
    if profiler:  # the forked worker processes would inherit it: not profiled
        os.register_at_fork(after_in_child=profiler.disable)
    cpu = cpu_seconds()
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    report = import_file(name=path.name, data=data,
                         progress=lambda done, total: chunks.append(done))
    if profiler:
        profiler.disable()
    seconds = time.perf_counter() - started
    cpu = tuple(after - before for after, before in zip(cpu_seconds(), cpu, strict=True))
    if profiler:
        out = WORK / "import.prof"
        profiler.dump_stats(out)
        stats = pstats.Stats(profiler, stream=sys.stdout)
        print(f"profile written to {out.relative_to(HERE.parent)}; top by own time:")
        stats.sort_stats("tottime").print_stats(25)
    if not report.written:
        print(f"  NOT WRITTEN: {len(report.rejected)} rejected rows, first: "
              f"{report.rejected[:3]}")
    return report, seconds, len(chunks), cpu


def cpu_seconds() -> tuple[float, float]:
    """CPU time of this process and of its finished children (the import's workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(
        resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def import_export_import(path: Path) -> tuple[int, float, bool]:
    """django-import-export's usual setup: a ModelResource matched on external_id."""
    import tablib
    from import_export import fields, resources, widgets

    from kehu.customers import services
    from kehu.customers.models import Customer
    from kehu.users.models import User

    class CustomerResource(resources.ModelResource):
        owner = fields.Field(attribute="owner", column_name="owner",
                             widget=widgets.ForeignKeyWidget(User, field="username"))

        class Meta:
            model = Customer
            fields = ("external_id", "kind", "name", "salutation", "status", "lost_reason",
                      "owner", "birthday", "industry", "usual", "preferences", "needs")
            import_id_fields = ("external_id",)

        def before_import(self, dataset, **kwargs):
            # Numbers as kehu hands them out: one reservation for the whole file.
            self.numbers = iter(services.customer_numbers_reserve(count=len(dataset)))

        def before_save_instance(self, instance, row, **kwargs):
            if not instance.number:
                instance.number = next(self.numbers)

    data = path.read_bytes()
    started = time.perf_counter()
    dataset = tablib.Dataset().load(data.decode("utf-8-sig"), format="csv")
    result = CustomerResource().import_data(dataset, dry_run=False)
    seconds = time.perf_counter() - started
    return Customer.objects.count(), seconds, result.has_errors()


def verify_import(path: Path, rng: random.Random, count: int = 300) -> None:
    """Imported rows are found, through the search index, by what the rows say."""
    from kehu.customers.selectors import customer_search

    rows = sample_rows(path, count, rng)
    by_id = by_name = by_phone = with_phone = 0
    for row in rows:
        external_id, name, phones = row[0], row[2], [p for p in row[13].split(";") if p]
        page = customer_search(query=external_id, page=1)
        by_id += any(h.customer.external_id == external_id for h in page.hits)
        page = customer_search(query=f"{name} {external_id}", page=1)
        by_name += [h.customer.external_id for h in page.hits] == [external_id]
        if phones:
            with_phone += 1
            page = customer_search(query=rng.choice(phones), page=1)
            by_phone += any(h.customer.external_id == external_id for h in page.hits)
    print(f"  search check on {len(rows)} imported rows: found by external id {by_id}, by name "
          f"+ external id (only it) {by_name}, by a phone as written {by_phone}/{with_phone}")


# ---------------------------------------------------------------- search

def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)

    def rank(q: float) -> float:  # nearest-rank percentile
        return ordered[max(0, math.ceil(q * len(ordered)) - 1)]

    return {"p50": rank(0.50), "p95": rank(0.95), "p99": rank(0.99), "max": ordered[-1]}


def sample_rows(path: Path, count: int, rng: random.Random) -> list[list[str]]:
    """A uniform sample of data rows (reservoir sampling over the whole file)."""
    sample: list[list[str]] = []
    with path.open(encoding="utf-8-sig", newline="") as stream:
        reader = csv.reader(stream)
        next(reader)
        for index, row in enumerate(reader):
            if index < count:
                sample.append(row)
            else:
                slot = rng.randrange(index + 1)
                if slot < count:
                    sample[slot] = row
    return sample


def name_queries(rows: list[list[str]], count: int, rng: random.Random) -> list[tuple[str, str]]:
    """(category, query): 1-, 2- and 3-character pieces of real names, and misses."""
    names = [row[2] for row in rows]
    queries = []
    for _ in range(count):
        roll = rng.random()
        name = rng.choice(names)
        if roll < 0.12:
            queries.append(("surname", name[0]))
        elif roll < 0.25:
            queries.append(("1 char", rng.choice(name)))
        elif roll < 0.55:
            start = rng.randrange(len(name) - 1)
            queries.append(("2 chars", name[start : start + 2]))
        elif roll < 0.85:
            if len(name) < 3:
                name = rng.choice([n for n in names if len(n) >= 3])
            start = rng.randrange(len(name) - 2)
            queries.append(("3 chars", name[start : start + 3]))
        elif roll < 0.90:
            start = rng.randrange(len(name) - 1)
            queries.append(("reversed", name[start : start + 2][::-1]))
        elif roll < 0.95:
            queries.append(("rare", "".join(rng.sample(RARE_CHARS, rng.randrange(1, 4)))))
        else:
            queries.append(("random 3", "".join(rng.choices(generate.GIVEN_CHARS, k=3))))
    return queries


def phone_queries(rows: list[list[str]], count: int,
                  rng: random.Random) -> list[tuple[str, str, str | None]]:
    """(category, query, expected E.164 or None): known numbers re-written, unknown ones."""
    import phonenumbers

    written = [text for row in rows for text in row[13].split(";") if text]
    queries = []
    for _ in range(count):
        if rng.random() < 0.15:
            national = generate.unknown_mobile(rng)
            queries.append(("unknown", generate.mobile_formats(national, rng), None))
            continue
        number = phonenumbers.parse(rng.choice(written), "CN")
        number.extension = None
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        national = str(number.national_number)
        area = phonenumbers.length_of_geographical_area_code(number)
        if area:
            text = generate.landline_formats(national[:area], national[area:], rng)
            queries.append(("landline", text, e164))
        else:
            queries.append(("mobile", generate.mobile_formats(national, rng), e164))
    return queries


def time_queries(queries: list[tuple], warmup: list[tuple]):
    """Milliseconds per query, and (phones found, hits, more pages) per query.

    Only that summary of each page is kept, so the process stays as small as a server's
    (a heap of a thousand result pages would slow Python's garbage collector).
    """
    from kehu.customers.selectors import customer_search

    for item in warmup:
        customer_search(query=item[1], page=1)
    timings, results = [], []
    for item in queries:
        started = time.perf_counter()
        page = customer_search(query=item[1], page=1)
        timings.append((time.perf_counter() - started) * 1000)
        phones = {p.e164 for h in page.hits if h.matched_by == "phone"
                  for p in h.customer.own_phones}
        results.append((phones, len(page.hits), page.has_next))
    return timings, results


def print_latency(label: str, timings: list[float]) -> dict[str, float]:
    figures = percentiles(timings)
    print(f"  {label:<22} n={len(timings):<5} " + "  ".join(
        f"{key} {value:7.2f} ms" for key, value in figures.items()))
    return figures


def search_benchmarks(path: Path, args) -> tuple[dict, dict]:
    rng = random.Random(args.seed + 1)
    rows = sample_rows(path, 5000, rng)

    print(f"\nsearch by phone: {args.queries} queries (after 100 warm-up queries)")
    queries = phone_queries(rows, args.queries, rng)
    timings, pages = time_queries(queries, phone_queries(rows, 100, rng))
    phone = print_latency("all", timings)
    for category in ("mobile", "landline", "unknown"):
        picked = [t for t, q in zip(timings, queries, strict=True) if q[0] == category]
        if picked:
            print_latency(category, picked)
    known = [(q, p) for q, p in zip(queries, pages, strict=True) if q[2]]
    found = sum(1 for q, (phones, _, _) in known if q[2] in phones)
    unknown_hits = sum(1 for q, p in zip(queries, pages, strict=True) if not q[2] and p[1])
    print(f"  known numbers found by phone: {found}/{len(known)}; unknown numbers with hits: "
          f"{unknown_hits}")

    print(f"\nsearch by name: {args.queries} queries (after 100 warm-up queries)")
    queries = name_queries(rows, args.queries, rng)
    timings, pages = time_queries(queries, name_queries(rows, 100, rng))
    name = print_latency("all", timings)
    for category in ("surname", "1 char", "2 chars", "3 chars", "reversed", "rare", "random 3"):
        picked = [t for t, q in zip(timings, queries, strict=True) if q[0] == category]
        if picked:
            print_latency(category, picked)
    empty = sum(1 for _, hits, _ in pages if not hits)
    full = sum(1 for _, _, more in pages if more)
    slowest = sorted(zip(timings, queries, strict=True), reverse=True)[:5]
    print(f"  queries with no hit: {empty}; with more than one page: {full}")
    print("  slowest: " + ", ".join(f"{q[1]} ({t:.1f} ms)" for t, q in slowest))
    return phone, name


# ---------------------------------------------------------------- main

def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main() -> None:
    args = parse_args()
    where = setup_django(args.database_url, keep=args.search_only)
    from django.db import connection

    from kehu.customers.models import Customer, Phone, SearchEntry

    print(f"database: {connection.vendor} ({where}); python {sys.version.split()[0]}; "
          f"{os.cpu_count()} cpus")
    path = csv_file(args.customers, args.seed)

    if args.search_only:
        print(f"searching the {Customer.objects.count():,} customers stored")
        phone, name = search_benchmarks(path, args)
        if args.results_json:
            args.results_json.write_text(json.dumps({"phone": phone, "name": name}))
        else:
            print_verdicts(args, None, phone, name)
        return

    ie_rate = kehu_small_rate = None
    if args.compare_rows:
        small = head_csv(path, min(args.compare_rows, args.customers))
        rows = min(args.compare_rows, args.customers)
        print(f"\ncomparison on the first {rows:,} rows, each import into emptied tables:")
        empty_database()
        report, seconds, _, _ = kehu_import(small)
        kehu_small_rate = rate(report.created, seconds)
        print(f"  kehu import_file:         {report.created:>9,} rows in {seconds:6.2f} s = "
              f"{kehu_small_rate:9,.0f} rows/s (customers + phones, emails, addresses, tags, "
              "history, search index)")
        empty_database()
        created, seconds, errors = import_export_import(small)
        ie_rate = rate(created, seconds)
        print(f"  django-import-export:     {created:>9,} rows in {seconds:6.2f} s = "
              f"{ie_rate:9,.0f} rows/s (customer table only{', HAD ERRORS' if errors else ''})")

    print(f"\nimport of {args.customers:,} customers through kehu.customers.transfer.import_file"
          " into emptied tables:")
    empty_database()
    report, seconds, calls, (cpu_main, cpu_workers) = kehu_import(path, profile=args.profile)
    import_rate = rate(report.created, seconds)
    print(f"  rows {report.total:,}  created {report.created:,}  rejected {len(report.rejected)}"
          f"  warnings {len(report.warnings)}  progress calls {calls}")
    print(f"  {seconds:.2f} s = {import_rate:,.0f} rows/s")
    per_row = 1e6 / max(report.total, 1)
    print(f"  CPU: importing process {cpu_main:.1f} s ({cpu_main * per_row:.0f} us/row), "
          f"checking workers {cpu_workers:.1f} s ({cpu_workers * per_row:.0f} us/row); "
          f"{os.cpu_count()} cores")
    print(f"  stored: {Customer.objects.count():,} customers, {Phone.objects.count():,} phones, "
          f"{SearchEntry.objects.count():,} search entries")
    verify_import(path, random.Random(args.seed + 2))
    if ie_rate:
        print(f"  ratio kehu ({args.customers:,} rows) / django-import-export "
              f"({args.compare_rows:,} rows): {import_rate / ie_rate:.1f}x")
        print(f"  ratio kehu / django-import-export on the same {args.compare_rows:,} rows: "
              f"{kehu_small_rate / ie_rate:.1f}x")

    phone = name = None
    if not args.skip_search:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:  # what autovacuum does after a bulk load
                cursor.execute("ANALYZE")
        phone, name = search_in_fresh_process(args)
    print_verdicts(args, import_rate, phone, name)


def search_in_fresh_process(args) -> tuple[dict, dict]:
    """Searches run in a new process, as a web server's would: this one has just held and
    freed gigabytes of rows, which made its searches up to twice as slow."""
    from django.db import connections

    connections.close_all()
    results = WORK / "search-results.json"
    results.unlink(missing_ok=True)
    command = [sys.executable, __file__, "--search-only", "--customers", str(args.customers),
               "--seed", str(args.seed), "--queries", str(args.queries),
               "--results-json", str(results)]
    if args.database_url:
        command += ["--database-url", args.database_url]
    print("\n(searching from a new process)", flush=True)
    subprocess.run(command, check=True)
    figures = json.loads(results.read_text())
    return figures["phone"], figures["name"]


def print_verdicts(args, import_rate, phone, name) -> None:
    print("\nresults:")
    scale = "" if args.customers == 1_000_000 else f" (at {args.customers:,} customers, " \
        "the targets are set for 1,000,000)"
    if import_rate is not None:
        print(f"  {verdict(import_rate >= IMPORT_TARGET)} import {import_rate:,.0f} rows/s "
              f"(target >= {IMPORT_TARGET:,}){scale}")
    if phone:
        print(f"  {verdict(phone['p99'] < PHONE_TARGET_MS)} search by phone p99 "
              f"{phone['p99']:.2f} ms (target < {PHONE_TARGET_MS:g} ms){scale}")
        print(f"  {verdict(name['p99'] < NAME_TARGET_MS)} search by name p99 "
              f"{name['p99']:.2f} ms (target < {NAME_TARGET_MS:g} ms){scale}")


if __name__ == "__main__":
    main()
