"""README command 2: the whole suite on SQLite, again on SQLite with the clock a year ahead,
then on PostgreSQL.

The second run (`--clock-ahead`, see tests/conftest.py) proves that no test depends on the
day it runs: KEHU_TEST_CLOCK_AHEAD_DAYS sets how far (default 366; 0 leaves it out).

PostgreSQL comes from KEHU_TEST_POSTGRES_URL (postgres://user:pass@host:port/db; the user
needs CREATEDB). Without it the PostgreSQL run is skipped with a notice, unless
KEHU_REQUIRE_POSTGRES=1 (set by CI), which makes a missing or unreachable server a failure.
A run in which pytest collects no test fails loudly (pytest's exit code 5).
Extra arguments go to both pytest runs, e.g. `tests/run_all.py -k search -x`.
"""

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / ".test-data"
NO_TESTS_COLLECTED = 5  # pytest.ExitCode.NO_TESTS_COLLECTED


def counts(report: Path) -> dict[str, int]:
    """passed/failed/skipped from pytest's JUnit XML (errors count as failures)."""
    try:
        root = ET.parse(report).getroot()
    except (OSError, ET.ParseError):
        return {}
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    total = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for suite in suites:
        for key in total:
            total[key] += int(suite.get(key, 0))
    failed = total["failures"] + total["errors"]
    return {
        "passed": total["tests"] - failed - total["skipped"],
        "failed": failed,
        "skipped": total["skipped"],
    }


def run(label: str, env: dict[str, str], extra: list[str] = ()) -> tuple[int, dict[str, int]]:
    print(f"\n==== kehu tests on {label} ====", flush=True)
    report = DATA_DIR / f"junit-{label.lower().replace(' ', '-')}.xml"
    report.unlink(missing_ok=True)
    code = subprocess.call(
        [sys.executable, "-m", "pytest", "-q", f"--junitxml={report}", *extra, *sys.argv[1:]],
        cwd=ROOT,
        env=env,
    )
    found = counts(report)
    if code == NO_TESTS_COLLECTED:
        print(f"FAILED: no test ran on {label} (pytest collected nothing)", file=sys.stderr)
    elif code != 0:
        print(f"FAILED: pytest exited {code} on {label}", file=sys.stderr)
    elif not found.get("passed"):
        print(f"FAILED: no test passed on {label}", file=sys.stderr)
        code = 1
    return code, found


def postgres_reachable(url: str) -> str | None:
    """None when a connection opens, else the reason."""
    try:
        import psycopg
    except ImportError as error:
        return f"psycopg is not installed ({error})"
    try:
        with psycopg.connect(url, connect_timeout=10) as connection:
            encoding = connection.execute("SHOW server_encoding").fetchone()[0]
    except psycopg.Error as error:
        return str(error).strip()
    if encoding != "UTF8":
        return f"the database's encoding is {encoding}, kehu needs UTF8"
    return None


def main() -> int:
    DATA_DIR.mkdir(exist_ok=True)
    base = dict(os.environ)
    base.pop("KEHU_DATABASE_URL", None)
    base["KEHU_DATA_DIR"] = str(DATA_DIR)
    # DJANGO_ALLOW_ASYNC_UNSAFE is set by tests/browser/conftest.py while Chromium runs
    # only: set here it would leak into `manage.py check --deploy` run by the tests.
    results: dict[str, tuple[int, dict[str, int]]] = {"SQLite": run("SQLite", base)}
    ahead = int(os.environ.get("KEHU_TEST_CLOCK_AHEAD_DAYS", "366"))
    if ahead:
        label = f"SQLite {ahead} days ahead"
        results[label] = run(label, base, [f"--clock-ahead={ahead}"])

    required = os.environ.get("KEHU_REQUIRE_POSTGRES") == "1"
    postgres = os.environ.get("KEHU_TEST_POSTGRES_URL")
    problem = None
    if postgres:
        problem = postgres_reachable(postgres)
        if problem is None:
            # The analytics engine tests do not use Django's database: the SQLite run
            # already ran them on every engine, PostgreSQL among them.
            again = [] if any(a.startswith("tests/analytics") for a in sys.argv[1:]) else [
                "--ignore=tests/analytics"]
            results["PostgreSQL"] = run(
                "PostgreSQL", base | {"KEHU_DATABASE_URL": postgres}, again)
        else:
            problem = f"PostgreSQL at KEHU_TEST_POSTGRES_URL is unusable: {problem}"
    elif required:
        problem = "KEHU_REQUIRE_POSTGRES=1 but KEHU_TEST_POSTGRES_URL is not set"
    else:
        print("\nPostgreSQL run skipped: set KEHU_TEST_POSTGRES_URL to run it.", flush=True)

    failed = any(code != 0 for code, _ in results.values())
    if problem:
        # A server that was named but cannot be used is a failure, required or not.
        print(f"\nFAILED: {problem}", file=sys.stderr, flush=True)
        failed = True

    print("\n==== summary ====")
    total = {"passed": 0, "failed": 0, "skipped": 0}
    for label, (code, found) in results.items():
        for key in total:
            total[key] += found.get(key, 0)
        print(
            f"{label}: {found.get('passed', 0)} passed, {found.get('failed', 0)} failed,"
            f" {found.get('skipped', 0)} skipped"
        )
        if code != 0:
            print(f"{label} run FAILED (pytest exit {code})")
    print(f"total: {total['passed']} passed, {total['failed']} failed, {total['skipped']} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
