"""`sereno serve`, `sereno migrate` and `sereno demo`: the long-running entry points."""

import json
from pathlib import Path

import typer
from rich.console import Console

from sereno.commands.common import DatabaseUrl, DataDir, console, runtime_from, settings_from, sync_site
from sereno.core import migrate as migrations
from sereno.core.db import Database


def serve(
    host: str | None = typer.Option(None, help="Listen address (default 127.0.0.1)"),
    port: int | None = typer.Option(None, help="Listen port (default 8000)"),
    site: Path | None = typer.Option(None, "--site", help="Site file (TOML); centres are synced from it"),
    data_dir: Path | None = DataDir,
    database_url: str | None = DatabaseUrl,
    access_log: bool = typer.Option(
        False, help="A log line per HTTP request (the audit log already records every access that matters)"
    ),
) -> None:
    """Run the API server (embedded: SQLite under the data directory; cluster: --database-url)."""
    import uvicorn

    from sereno.api.app import create_app

    settings = settings_from(data_dir, database_url, host=host, port=port, site_file=site)
    rt = runtime_from(settings)
    sync_site(rt, "system")
    try:
        uvicorn.run(
            create_app(rt),
            host=settings.host,
            port=settings.port,
            proxy_headers=True,
            log_level="info",
            access_log=access_log,
        )
    finally:
        rt.close()


def migrate(data_dir: Path | None = DataDir, database_url: str | None = DatabaseUrl) -> None:
    """Bring the database schema up to date (safe to run again)."""
    settings = settings_from(data_dir, database_url)
    db = Database(settings.resolved_database_url())
    try:
        before = migrations.current_revision(db)
        migrations.upgrade(db)
        after = migrations.current_revision(db)
    finally:
        db.dispose()
    Console().print(f"schema at {after}" + (f" (was {before or 'empty'})" if before != after else " (up to date)"))


def demo(
    for_seconds: float | None = typer.Option(None, "--for", help="Run N seconds, stop, print a JSON summary"),
    port: int = typer.Option(8000, help="Listen port (0: any free port)"),
    data_dir: Path | None = typer.Option(None, "--data-dir", help="Default: a new temporary directory"),
    calls_per_day: float = typer.Option(
        1500.0, min=1, help="Simulated emergency calls per day (the hourly curve shapes them; about half misuse)"
    ),
) -> None:
    """Start the simulated city with the console on localhost and print the generated credentials."""
    from sereno.sim.demo import DemoRunner

    runner = DemoRunner(data_dir=data_dir, port=port, say=console.print, calls_per_day=calls_per_day)
    summary = runner.run(for_seconds)
    if for_seconds is not None:
        print(json.dumps(summary, indent=2))
