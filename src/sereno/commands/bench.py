"""`sereno bench NAME`: run a benchmark from the source checkout's bench/ folder (JSON on stdout)."""

import runpy
import sys
from pathlib import Path

import typer

from sereno.commands.common import console

BENCH_DIR = Path(__file__).resolve().parents[3] / "bench"


def bench(
    name: str = typer.Argument(..., help="Benchmark name: a file bench/NAME.py"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (the only format; kept for scripts)"),
    args: list[str] = typer.Argument(None, help="Extra arguments passed to the benchmark"),
) -> None:
    """Benchmarks ship with the source checkout, not the wheel: they measure, they are not the product."""
    script = BENCH_DIR / f"{name}.py"
    if not script.is_file():
        available = sorted(p.stem for p in BENCH_DIR.glob("*.py") if not p.stem.startswith("_"))
        console.print(f"[red]no benchmark '{name}'[/red] in {BENCH_DIR}; available: {', '.join(available) or 'none'}")
        raise typer.Exit(2)
    sys.argv = [str(script), *(args or [])]
    runpy.run_path(str(script), run_name="__main__")
