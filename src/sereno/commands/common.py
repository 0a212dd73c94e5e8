"""What every command needs: settings from the environment plus flags, and a runtime built from them."""

import getpass
from pathlib import Path

import typer
from rich.console import Console

from sereno.app import Runtime
from sereno.config.settings import Settings
from sereno.config.site import SiteConfigError, load_site
from sereno.core.auth.principal import Principal, cli_principal
from sereno.core.errors import SerenoError

console = Console(stderr=True, soft_wrap=True)

DataDir = typer.Option(None, "--data-dir", help="Data directory (default: $SERENO_DATA_DIR or ./sereno-data)")
DatabaseUrl = typer.Option(None, "--database-url", help="Database URL (default: SQLite in the data directory)")


def settings_from(data_dir: Path | None, database_url: str | None, **extra: object) -> Settings:
    overrides: dict[str, object] = {k: v for k, v in extra.items() if v is not None}
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    if database_url is not None:
        overrides["database_url"] = database_url
    return Settings(**overrides)  # type: ignore[arg-type]


def runtime_from(settings: Settings) -> Runtime:
    return Runtime.build(settings)


def worker_runtime_from(settings: Settings) -> Runtime:
    """A worker's runtime: what its services publish is also relayed to the API server's live feed."""
    from sereno.core.relay import RelayingBus, socket_path

    return Runtime.build(settings, bus=RelayingBus(socket_path(settings.data_dir)))


def operator() -> Principal:
    return cli_principal(getpass.getuser())


def sync_site(rt: Runtime, actor: str) -> None:
    if rt.settings.site_file is None:
        return
    try:
        site = load_site(rt.settings.site_file)
    except SiteConfigError as exc:
        for line in exc.problems:
            console.print(f"{exc.path}: {line}", style="red", markup=False, highlight=False)
        raise typer.Exit(2) from None
    rt.directory.sync_centres(site, actor)
    rt.dispatch.configure(site)
    rt.units.sync_from_site(site)
    try:
        rt.cameras.sync_from_site(site, cli_principal(actor))
    except SerenoError as exc:
        console.print(f"{rt.settings.site_file}: {exc}", style="red", markup=False, highlight=False)
        raise typer.Exit(2) from None
