"""`sereno audit`: verify the chain, sign a checkpoint, export the public key."""

import json
from pathlib import Path

import typer
from rich.console import Console

from sereno.commands.common import DatabaseUrl, DataDir, console, settings_from
from sereno.core.audit.signing import PUBLIC_NAME, key_id, load_public_key
from sereno.core.audit.verify import verify_log
from sereno.core.db import Database

app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)


@app.command("verify")
def verify(
    public_key: list[Path] = typer.Option(
        [], "--public-key", help="Trusted Ed25519 public key (PEM); default: the data directory's"
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON"),
    data_dir: Path | None = DataDir,
    database_url: str | None = DatabaseUrl,
) -> None:
    """Exit 0 when every entry and checkpoint holds; else 1, naming the first bad entry."""
    settings = settings_from(data_dir, database_url)
    paths = public_key or [settings.keys_dir / PUBLIC_NAME]
    keys = {}
    for path in paths:
        try:
            key = load_public_key(path)
        except (OSError, ValueError) as exc:
            console.print(f"[red]cannot read public key {path}:[/red] {exc}")
            raise typer.Exit(2) from None
        keys[key_id(key)] = key
    db = Database(settings.resolved_database_url())
    try:
        with console.status("verifying the audit chain..."):
            report = verify_log(db, keys)
    finally:
        db.dispose()
    if as_json:
        print(json.dumps(report.__dict__))
    elif report.ok:
        Console(soft_wrap=True).print(
            f"[green]audit log OK[/green]: {report.entries} entries, {report.checkpoints} signed "
            f"checkpoints, verified in {report.seconds:.2f} s"
        )
        for note in report.notes:
            Console().print(f"note: {note}")
    else:
        Console(soft_wrap=True).print(f"[red]audit log BROKEN at entry {report.first_bad_seq}[/red]: {report.problem}")
    raise typer.Exit(0 if report.ok else 1)


@app.command("checkpoint")
def checkpoint(data_dir: Path | None = DataDir, database_url: str | None = DatabaseUrl) -> None:
    """Sign the current head now (e.g. before copying the database for an auditor)."""
    from sereno.commands.common import runtime_from

    rt = runtime_from(settings_from(data_dir, database_url))
    try:
        seq = rt.audit.checkpoint()
    finally:
        rt.close()
    Console().print(f"signed checkpoint at entry {seq}" if seq else "the audit log is empty")


@app.command("public-key")
def public_key_cmd(data_dir: Path | None = DataDir) -> None:
    """Print the public key that verifies checkpoints (give it to auditors)."""
    settings = settings_from(data_dir, None)
    path = settings.keys_dir / PUBLIC_NAME
    if not path.exists():
        console.print(f"[red]no key yet at {path}[/red]: run `sereno migrate` or start the server once")
        raise typer.Exit(2)
    print(path.read_text(), end="")
