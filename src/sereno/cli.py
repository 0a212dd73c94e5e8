"""The `sereno` command: serve, demo, migrate, worker, admin, audit, config, bench."""

import typer

from sereno.commands import admin, audit, bench, config, run, sim, worker

app = typer.Typer(
    help="Sereno: open public-safety operations, private by default and accountable in every access.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command()(run.serve)
app.command()(run.demo)
app.command()(run.migrate)
app.command()(bench.bench)
app.add_typer(admin.app, name="admin")
app.add_typer(audit.app, name="audit")
app.add_typer(config.app, name="config")
app.add_typer(worker.app, name="worker")
app.add_typer(sim.app, name="sim")


def main() -> None:
    app()
