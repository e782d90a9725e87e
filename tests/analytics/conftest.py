"""Engines for the analytics tests, each test run once per engine (Ibis style): DuckDB
always; PostgreSQL when KEHU_TEST_POSTGRES_URL names a server (skipped without it, a
failure when KEHU_REQUIRE_POSTGRES=1); Spark in local mode when PySpark and Java are
there (skipped without them, a failure when KEHU_REQUIRE_SPARK=1, as CI sets it)."""

import os
import shutil
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


@pytest.fixture(scope="session")
def spark_session(tmp_path_factory):
    """One Spark session for the whole run: starting the JVM takes seconds."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        SparkSession = None
    require_or_skip(
        SparkSession is not None and shutil.which("java") is not None,
        what="Spark (PySpark and Java)",
        variable="KEHU_REQUIRE_SPARK",
    )
    session = (
        SparkSession.builder.master("local[1]")
        .appName("kehu-tests")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.warehouse.dir", str(tmp_path_factory.mktemp("spark-warehouse")))
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(params=["duckdb", "postgres", "spark"])
def load(request) -> Iterator[Load]:
    """Puts a DataFrame into a real table of the engine and gives the Ibis table."""
    if request.param == "duckdb":
        con = ibis.duckdb.connect()
    elif request.param == "spark":
        con = ibis.pyspark.connect(request.getfixturevalue("spark_session"))
    else:
        url = os.environ.get("KEHU_TEST_POSTGRES_URL", "")
        require_or_skip(bool(url), what="PostgreSQL", variable="KEHU_REQUIRE_POSTGRES")
        con = ibis.connect(url.replace("postgresql://", "postgres://", 1))
    made: list[str] = []

    def _load(frame: pd.DataFrame) -> ibis.expr.types.Table:
        name = f"kehu_test_{uuid.uuid4().hex[:12]}"
        made.append(name)
        if request.param == "spark":
            # Spark reads pandas' missing text as the string "NaN": give it real nulls.
            frame = frame.copy()
            for column in frame.columns:
                text = frame[column].dtype == object or pd.api.types.is_string_dtype(frame[column])
                if text and frame[column].notna().any():
                    frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
        return con.create_table(name, frame)

    yield _load
    for name in made:
        con.drop_table(name, force=True)
    if request.param != "spark":  # the session is shared by the whole run
        con.disconnect()
