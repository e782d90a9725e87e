"""The `kehu` command: serve, demo data, import, export and users."""

import os
import signal
import subprocess
import sys
from enum import Enum
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn
from rich.table import Table

app = typer.Typer(help="kehu: customer service and loyalty.", no_args_is_help=True)
console = Console()

from kehu.analytics.cli import app as analyze_app  # noqa: E402  (no Django import)

app.add_typer(analyze_app, name="analyze")


@app.callback()
def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kehu.config.settings")
    import django

    django.setup()


def _manage(*args: str) -> None:
    from django.core.management import call_command

    call_command(*args)


def _migrate() -> None:
    """Brings the schema up to date, so any command works on a fresh data directory."""
    _manage("migrate", "--no-input", "-v", "0")


class What(str, Enum):
    customers = "customers"
    contacts = "contacts"


class Format(str, Enum):
    csv = "csv"
    xlsx = "xlsx"


# gunicorn's worker processes and threads per process. benchmarks/telephony.py --sweep
# compares setups on the CTI webhook (500 events/s on two cores) and starts gunicorn with
# this same command: on two cores 2 x 2 took the most events for the least CPU per
# event; more threads per process wait on each other for Python's GIL and the write lock.
SERVE_WORKERS = 2
SERVE_THREADS = 2


def gunicorn_command(*, host: str, port: int, workers: int, threads: int = SERVE_THREADS,
                     access_log: bool = False) -> list[str]:
    """How `kehu serve` starts gunicorn. The access log is off unless asked for: a line
    per request cost the webhook a tenth of its CPU, and a proxy in front logs anyway."""
    command = [
        str(Path(sys.executable).parent / "gunicorn"), "kehu.config.wsgi:application",
        "--bind", f"{host}:{port}", "--workers", str(workers), "--threads", str(threads),
        "--worker-class", "gthread", "--timeout", "300",
    ]
    return command + ["--access-logfile", "-"] if access_log else command


def _rejected_print(rejected: list[dict]) -> None:
    """The first 50 rejected rows of an import report, with why."""
    if rejected:
        table = Table("row", "why")
        for item in rejected[:50]:
            table.add_row(str(item["row"]), " ".join(item["errors"]))
        console.print(table)


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    workers: int = typer.Option(SERVE_WORKERS, help="Web server processes."),
    access_log: bool = typer.Option(False, help="Log every request to standard output."),
    demo_customers: int = typer.Option(
        300, help="Demo customers to create when the database is empty (0: none)."
    ),
) -> None:
    """Migrate, load demo data into an empty database, and serve with gunicorn + the worker."""
    from django.conf import settings

    from kehu.customers.models import Customer
    from kehu.demo import demo_load, demo_login

    _manage("migrate", "--no-input", "-v", "0")
    if not settings.DEBUG:
        _manage("collectstatic", "--no-input", "-v", "0")
    if demo_customers and not Customer.objects.exists():
        with console.status("Loading demo data…"):
            demo_load(customers=demo_customers)
    login = demo_login()
    console.print(f"\n[bold green]kehu[/] is running at [bold]http://{host}:{port}/[/]")
    if login:
        console.print(f"Log in as [bold]{login[0]}[/] with password [bold]{login[1]}[/]"
                      " (also: agent, manager, supervisor, analyst — same password)")
    console.print("Stop with Ctrl+C.\n")

    bin_dir = Path(sys.executable).parent
    worker = subprocess.Popen([str(bin_dir / "django-admin"), "run_huey", "--quiet"])
    server = subprocess.Popen(gunicorn_command(host=host, port=port, workers=workers,
                                               access_log=access_log))

    def stop(*_args) -> None:
        for process in (server, worker):
            if process.poll() is None:
                process.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    code = server.wait()
    stop()
    worker.wait()
    raise typer.Exit(code)


@app.command()
def demo(
    customers: int = typer.Option(300, min=1, help="How many customers to create."),
    seed: int = typer.Option(2026, help="Random seed: the same seed gives the same data."),
) -> None:
    """Load coherent zh_CN demo data: organisations with contacts, individuals, notes."""
    from kehu.demo import demo_load, demo_login

    _manage("migrate", "--no-input", "-v", "0")
    with _progress() as progress:
        task = progress.add_task("demo", total=customers)
        report = demo_load(
            customers=customers, seed=seed,
            progress=lambda done, total: progress.update(task, completed=done, total=total),
        )
    console.print(f"Created {report.created} customers.")
    login = demo_login()
    if login:
        console.print(f"Log in as [bold]{login[0]}[/] with password [bold]{login[1]}[/]")


@analyze_app.command("refresh")
def analyze_refresh(
    as_of: str = typer.Option("", "--as-of", help="Analysis date, YYYY-MM-DD (default: today)."),
    horizon: int = typer.Option(0, help="Days ahead for expected purchases (default: settings)."),
    months: int = typer.Option(-1, help="Months of lifetime value, 30 days each (default: settings)."),
    discount: float = typer.Option(-1.0, help="Discount rate per month (default: settings)."),
) -> None:
    """Score every customer in the database (tier, segment, CLV, churn risk) and store it."""
    from datetime import date

    from django.core.exceptions import ValidationError

    from kehu.insights.services import value_refresh

    _migrate()
    try:
        day = date.fromisoformat(as_of) if as_of else None
    except ValueError:
        raise typer.BadParameter(f"not a date: {as_of!r} (YYYY-MM-DD)") from None
    try:
        with _progress() as progress:
            progress.add_task("refresh", total=None)
            refresh = value_refresh(
                as_of=day,
                horizon_days=horizon or None,
                clv_months=None if months < 0 else months,
                discount_rate=None if discount < 0 else discount,
            )
    except ValidationError as error:
        for field, messages in error.message_dict.items():
            console.print(f"[red]{field}: {' '.join(messages)}[/]")
        raise typer.Exit(2) from None
    console.print(
        f"Scored {refresh.customers:,} customers from {refresh.transactions:,} transactions "
        f"as of {refresh.as_of} (horizon {refresh.horizon_days} days, {refresh.clv_months} "
        f"months at {refresh.discount_rate} per month)."
    )
    if refresh.note:
        console.print(f"[yellow]{refresh.note}[/]")


def _progress() -> Progress:
    return Progress(
        "[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
        TimeRemainingColumn(), console=console,
    )


@app.command("import")
def import_(
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV or .xlsx file."),
    what: What = typer.Option(What.customers, help="What the file holds."),
    skip_invalid: bool = typer.Option(
        False, help="Import valid rows and skip invalid ones (default: all or nothing)."
    ),
    encoding: str = typer.Option("", help="CSV encoding (default: detect UTF-8 or GB18030)."),
    user: str = typer.Option("", help="Record the import as done by this user."),
) -> None:
    """Import customers or contacts; prints a report of rejected rows with reasons."""
    from kehu.customers.transfer import ImportFileError, import_file
    from kehu.users.models import User

    _migrate()
    actor = User.objects.filter(username=user).first() if user else None
    if user and actor is None:
        console.print(f"[red]No user {user!r}.[/]")
        raise typer.Exit(2)
    try:
        with _progress() as progress:
            task = progress.add_task(f"import {path.name}", total=None)
            report = import_file(
                name=path.name, data=path.read_bytes(), what=what.value, actor=actor,
                skip_invalid=skip_invalid, encoding=encoding,
                progress=lambda done, total: progress.update(task, completed=done, total=total),
            )
    except ImportFileError as error:
        console.print(f"[red]{error}[/]")
        raise typer.Exit(2) from None
    console.print(
        f"Rows: {report.total}  created: {report.created}  updated: {report.updated}  "
        f"unchanged: {report.unchanged}  rejected: {len(report.rejected)}  "
        f"warnings: {len(report.warnings)}"
    )
    _rejected_print(report.rejected)
    for item in report.warnings[:20]:
        console.print(f"[yellow]row {item['row']}: {item['message']}[/]")
    if not report.written:
        console.print("[red]Nothing was imported.[/]")
        raise typer.Exit(1)


@app.command()
def export(
    path: Path = typer.Argument(..., dir_okay=False, help="Where to write (.csv or .xlsx)."),
    what: What = typer.Option(What.customers),
    encoding: str = typer.Option("utf-8-sig", help="CSV encoding: utf-8-sig or gb18030."),
) -> None:
    """Export customers or contacts as CSV or Excel."""
    from kehu.customers.transfer import export_csv, export_xlsx

    _migrate()
    with path.open("wb") as out:
        if path.suffix.lower() == ".xlsx":
            export_xlsx(out, what=what.value)
        else:
            export_csv(out, what=what.value, encoding=encoding)
    console.print(f"Wrote {path}")


@app.command()
def createuser(
    username: str,
    role: str = typer.Option("agent", help="agent, key_account_manager, supervisor, analyst, admin"),
    password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True),
    name: str = typer.Option("", help="Full name."),
) -> None:
    """Create a user with a role."""
    from django.core.exceptions import ValidationError
    from django.contrib.auth.password_validation import validate_password

    from kehu.users.roles import Role
    from kehu.users.services import user_create

    _migrate()
    try:
        Role(role)
        validate_password(password)
        user = user_create(username=username, password=password, role=role, first_name=name)
    except ValueError:
        console.print(f"[red]Unknown role {role!r}: choose one of {[r.value for r in Role]}[/]")
        raise typer.Exit(2) from None
    except ValidationError as error:
        console.print(f"[red]{' '.join(error.messages)}[/]")
        raise typer.Exit(2) from None
    console.print(f"Created {user.username} ({user.get_role_display()}).")


@app.command("import-transactions")
def import_transactions(
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV or .xlsx file."),
    encoding: str = typer.Option("", help="CSV encoding (default: detect UTF-8 or GBK)."),
    user: str = typer.Option("", help="Record the import as done by this user."),
) -> None:
    """Import purchases and refunds (all rows or none; rows already imported by external id
    are left alone), then earn the members' points; prints the rejected rows with reasons."""
    from django.core.exceptions import ValidationError

    from kehu.customers.transfer import ImportFileError
    from kehu.loyalty.imports import transactions_import_and_earn
    from kehu.users.models import User

    _migrate()
    actor = User.objects.filter(username=user).first() if user else None
    if user and actor is None:
        console.print(f"[red]No user {user!r}.[/]")
        raise typer.Exit(2)
    try:
        report, earned = transactions_import_and_earn(
            actor=actor, name=path.name, data=path.read_bytes(), encoding=encoding)
    except (ImportFileError, ValidationError) as error:
        console.print(f"[red]{' '.join(getattr(error, 'messages', [str(error)]))}[/]")
        raise typer.Exit(2) from None
    console.print(
        f"Rows: {report.total}  created: {report.created}  unchanged: {report.unchanged}  "
        f"rejected: {len(report.rejected)}  points earned: {earned}"
    )
    _rejected_print(report.rejected)
    if not report.written:
        console.print("[red]Nothing was imported.[/]")
        raise typer.Exit(1)


if __name__ == "__main__":
    app()
