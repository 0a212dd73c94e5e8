"""`sereno sim day`: a simulated stretch of a day of calls and dispatch, with its KPIs as JSON, CSV and SVG."""

import json
import tempfile
from pathlib import Path

import typer
from rich.progress import Progress

from sereno.commands.common import console

app = typer.Typer(help="The simulated city.", no_args_is_help=True)


@app.command()
def day(
    hours: float = typer.Option(1.0, min=0.05, max=48, help="Simulated hours"),
    calls_per_day: float = typer.Option(600.0, min=1, help="Average calls per day (the hourly curve shapes it)"),
    start_hour: int = typer.Option(8, min=0, max=23, help="Local hour the simulation starts at (UTC in the demo)"),
    seed: int = typer.Option(1, help="Same seed, same day"),
    svg: Path | None = typer.Option(None, help="Write the KPI chart here"),
    csv: Path | None = typer.Option(None, help="Write the KPI table here"),
) -> None:
    """Calls arrive, are answered, merged, classified or turned into incidents; units go and come back."""
    from sereno.app import Runtime
    from sereno.config.settings import Settings
    from sereno.config.site import load_site
    from sereno.core.clock import ManualClock
    from sereno.dispatch.kpi_chart import render_svg
    from sereno.sim.calls import HOUR_US, CallGenerator
    from sereno.sim.day import SimulatedDay
    from sereno.sim.demo import bundled_site_path

    site = load_site(bundled_site_path())
    clock = ManualClock(1_767_225_600_000_000 + start_hour * HOUR_US)
    with tempfile.TemporaryDirectory(prefix="sereno-sim-day-") as workdir:
        rt = Runtime.build(Settings(data_dir=Path(workdir)), clock=clock)
        try:
            rt.directory.sync_centres(site, "sim")
            rt.dispatch.configure(site)
            rt.units.sync_from_site(site)
            simulation = SimulatedDay(rt, clock, CallGenerator(site, calls_per_day=calls_per_day, seed=seed), seed=seed)
            with Progress(console=console, transient=True) as progress:
                task = progress.add_task("simulating", total=None)
                report = simulation.run(hours, lambda done, total: progress.update(task, completed=done, total=total))
        finally:
            rt.close()
    if svg is not None:
        svg.write_text(render_svg(report), encoding="utf-8")
    if csv is not None:
        csv.write_text(report.to_csv(), encoding="utf-8")
    p90 = {r.metric: r.p90_s for r in report.rows if r.group == "centre"}
    summary = {
        "hours": hours,
        "stats": simulation.stats.__dict__,
        "calls_by_outcome": report.calls_by_outcome,
        "misuse_by_kind": report.misuse_by_kind,
        "kpis": [r.__dict__ for r in report.rows],
        "p90_historic_centre_s": p90,
    }
    print(json.dumps(summary, indent=2))
