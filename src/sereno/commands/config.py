"""`sereno config check`: validate a site file before it reaches a running system."""

from pathlib import Path

import typer
from rich.console import Console

from sereno.config.site import SiteConfigError, load_site

app = typer.Typer(help="Site configuration.", no_args_is_help=True)


@app.command("check")
def check(path: Path) -> None:
    """Exit 0 and summarise when FILE is valid; else list every problem (file, key, what is wrong), exit 2."""
    out = Console(soft_wrap=True)
    try:
        site = load_site(path)
    except SiteConfigError as exc:
        for line in exc.problems:
            out.print(f"{exc.path}: {line}", style="red", markup=False, highlight=False)
        raise typer.Exit(2) from None
    out.print(
        f"[green]{path}[/green]: site '{site.name}' is valid: {len(site.centres)} centres, "
        f"{len(site.cameras)} cameras, {len(site.units)} units",
        highlight=False,
    )
