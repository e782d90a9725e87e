"""README command 2: the whole suite on SQLite, then on PostgreSQL.

PostgreSQL comes from KEHU_TEST_POSTGRES_URL (postgres://user:pass@host/db; the user
needs CREATEDB). Without it the PostgreSQL run is skipped with a notice, unless
KEHU_REQUIRE_POSTGRES=1 (set by CI), which makes a missing server a failure.
"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(label: str, env: dict[str, str]) -> int:
    print(f"\n==== kehu tests on {label} ====", flush=True)
    return subprocess.call(
        [sys.executable, "-m", "pytest", "-q", *sys.argv[1:]], cwd=ROOT, env=env
    )


def main() -> int:
    base = dict(os.environ)
    base.pop("KEHU_DATABASE_URL", None)
    base["KEHU_DATA_DIR"] = str(ROOT / ".test-data")
    base.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's loop beside the ORM
    failures = run("SQLite", base)

    postgres = os.environ.get("KEHU_TEST_POSTGRES_URL")
    if postgres:
        failures |= run("PostgreSQL", base | {"KEHU_DATABASE_URL": postgres})
    elif os.environ.get("KEHU_REQUIRE_POSTGRES") == "1":
        print("KEHU_REQUIRE_POSTGRES=1 but KEHU_TEST_POSTGRES_URL is not set", file=sys.stderr)
        failures = 1
    else:
        print("\nPostgreSQL run skipped: set KEHU_TEST_POSTGRES_URL to run it.", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
