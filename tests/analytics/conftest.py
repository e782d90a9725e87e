"""Engines for the analytics tests: DuckDB always; PostgreSQL when KEHU_TEST_POSTGRES_URL
names a server (skipped without it, a failure when KEHU_REQUIRE_POSTGRES=1)."""

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import ibis
import pandas as pd
import pytest

from tests.conftest import require_or_skip


def cdnow_path(name: str) -> Path:
    import lifetimes.datasets

    return Path(lifetimes.datasets.__file__).parent / name


def cdnow_transactions() -> pd.DataFrame:
    """CDNOW_sample as lifetimes ships it: customer, index, yyyymmdd, quantity, amount."""
    frame = pd.read_csv(
        cdnow_path("CDNOW_sample.txt"),
        sep=r"\s+",
        header=None,
        names=["customer_id", "customer_index", "date", "quantity", "amount"],
    )
    frame["at"] = pd.to_datetime(frame["date"].astype(str), format="%Y%m%d")
    return frame[["customer_id", "at", "amount"]]


Load = Callable[[pd.DataFrame], ibis.expr.types.Table]


@pytest.fixture(params=["duckdb", "postgres"])
def load(request) -> Iterator[Load]:
    """Puts a DataFrame into a real table of the engine and gives the Ibis table."""
    if request.param == "duckdb":
        con = ibis.duckdb.connect()
    else:
        url = os.environ.get("KEHU_TEST_POSTGRES_URL", "")
        require_or_skip(bool(url), what="PostgreSQL", variable="KEHU_REQUIRE_POSTGRES")
        con = ibis.connect(url.replace("postgresql://", "postgres://", 1))
    made: list[str] = []

    def _load(frame: pd.DataFrame) -> ibis.expr.types.Table:
        name = f"kehu_test_{uuid.uuid4().hex[:12]}"
        made.append(name)
        return con.create_table(name, frame)

    yield _load
    for name in made:
        con.drop_table(name, force=True)
    con.disconnect()
