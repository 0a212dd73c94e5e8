"""`sereno admin`: user administration from the machine itself (how the first admin comes to exist)."""

import secrets
from pathlib import Path

import typer
from rich.console import Console

from sereno.commands.common import DatabaseUrl, DataDir, console, operator, runtime_from, settings_from
from sereno.core.auth.permissions import Role
from sereno.core.errors import SerenoError

app = typer.Typer(help="Administer users and tokens.", no_args_is_help=True)


@app.command("create-user")
def create_user(
    username: str,
    role: Role = typer.Option(..., help="Role of the new user"),
    centre: str | None = typer.Option(None, help="Home centre code"),
    all_centres: bool = typer.Option(False, "--all-centres", help="Sees every centre (national roles)"),
    password: str | None = typer.Option(None, envvar="SERENO_NEW_PASSWORD", help="Default: generated and printed"),
    data_dir: Path | None = DataDir,
    database_url: str | None = DatabaseUrl,
) -> None:
    """Create a user; with no --password a strong one is generated and printed once."""
    from sereno.core.auth.directory import NewUser

    rt = runtime_from(settings_from(data_dir, database_url))
    generated = password is None
    secret = password or secrets.token_urlsafe(15)
    try:
        view = rt.directory.create_user(
            operator(), NewUser(username=username, password=secret, role=role, centre=centre, all_centres=all_centres)
        )
    except SerenoError as exc:
        console.print(f"[red]cannot create user:[/red] {exc}")
        raise typer.Exit(2) from None
    finally:
        rt.close()
    out = Console(soft_wrap=True)
    out.print(f"created [bold]{view.username}[/bold] ({view.role.value}, centre: {view.centre or 'all'})")
    if generated:
        out.print(f"password: [bold]{secret}[/bold]  (shown once)")


@app.command("unlock")
def unlock(username: str, data_dir: Path | None = DataDir, database_url: str | None = DatabaseUrl) -> None:
    """Clear a lockout after repeated failed logins."""
    rt = runtime_from(settings_from(data_dir, database_url))
    try:
        rt.directory.unlock(operator(), username)
    except SerenoError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    finally:
        rt.close()
    Console().print(f"unlocked {username}")


@app.command("rotate-master-key")
def rotate_master_key(data_dir: Path | None = DataDir, database_url: str | None = DatabaseUrl) -> None:
    """A new master key: every segment's data key is re-wrapped and every stream password re-sealed under it.
    Video is not re-encrypted. Older key files stay (they can be archived once this has finished)."""
    settings = settings_from(data_dir, database_url)
    rt = runtime_from(settings)
    try:
        rotated = rt.keys.rotate(settings.keys_dir)
        segments = rt.recording.rewrap_keys(rotated)
        passwords = rt.cameras.reseal(rotated)
        rt.audit.record(
            actor=operator().actor,
            action="keys.rotate",
            target=f"master-key:{rotated.current}",
            details={"segments_rewrapped": segments, "passwords_resealed": passwords},
        )
    finally:
        rt.close()
    Console().print(
        f"master key {rotated.current}: {segments} segment keys re-wrapped, {passwords} passwords re-sealed"
    )
