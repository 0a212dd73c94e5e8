"""`sereno worker record|privacy|analytics|avl`: the worker processes (the demo starts them for you)."""

import signal
import threading
from pathlib import Path
from types import FrameType

import typer

from sereno.commands.common import DatabaseUrl, DataDir, console, settings_from, worker_runtime_from

app = typer.Typer(help="Background workers.", no_args_is_help=True)


@app.command()
def record(
    camera: list[str] = typer.Option([], "--camera", help="Record only these cameras (default: all enabled)"),
    data_dir: Path | None = DataDir,
    database_url: str | None = DatabaseUrl,
) -> None:
    """Record the main stream of every enabled camera into sealed segments until stopped (SIGTERM/SIGINT)."""
    from sereno.recording.worker import RecordingWorker, collect_garbage_rarely, keep_segment_buffers_in_heap

    keep_segment_buffers_in_heap()
    collect_garbage_rarely()
    settings = settings_from(data_dir, database_url)
    rt = worker_runtime_from(settings)
    stop = _stop_on_signals()
    try:
        worker = RecordingWorker(rt, camera_ids=set(camera) or None)
        console.print(f"recording worker started; recovery: {worker.recovery}")
        worker.run(stop)
    finally:
        rt.close()


@app.command()
def privacy(
    camera: list[str] = typer.Option([], "--camera", help="Only these cameras (default: all enabled)"),
    data_dir: Path | None = DataDir,
    database_url: str | None = DatabaseUrl,
) -> None:
    """Anonymise every enabled camera's sub stream: live frames for viewing, low-rate segments for playback."""
    from sereno.privacy.worker import PrivacyWorker

    settings = settings_from(data_dir, database_url)
    rt = worker_runtime_from(settings)
    stop = _stop_on_signals()
    try:
        console.print("privacy worker started")
        PrivacyWorker(rt, camera_ids=set(camera) or None).run(stop)
    finally:
        rt.close()


@app.command()
def analytics(
    site: Path = typer.Option(..., "--site", help="Site file whose [[analytics]] entries say what to analyse"),
    data_dir: Path | None = DataDir,
    database_url: str | None = DatabaseUrl,
) -> None:
    """Analyse the sub streams of the cameras listed in the site's [[analytics]]; rule hits become alerts."""
    from sereno.analytics.worker import AnalyticsWorker, freeze_startup_objects
    from sereno.config.site import SiteConfigError, load_site

    try:
        config = load_site(site)
    except SiteConfigError as exc:
        for line in exc.problems:
            console.print(f"{exc.path}: {line}", style="red", markup=False, highlight=False)
        raise typer.Exit(2) from None
    settings = settings_from(data_dir, database_url, site_file=site)
    rt = worker_runtime_from(settings)
    stop = _stop_on_signals()
    try:
        freeze_startup_objects()
        worker = AnalyticsWorker(rt, config)
        console.print(f"analytics worker: {len(config.analytics)} cameras configured")
        worker.run(stop)
    finally:
        rt.close()


@app.command()
def avl(
    data_dir: Path | None = DataDir,
    database_url: str | None = DatabaseUrl,
) -> None:
    """Apply unit positions arriving over MQTT (AVL) until stopped; needs SERENO_AVL__ENABLED=true."""
    from sereno.dispatch.avl import AvlListener

    settings = settings_from(data_dir, database_url)
    if not settings.avl.enabled:
        console.print("AVL over MQTT is off: set SERENO_AVL__ENABLED=true (and SERENO_AVL__HOST, ...)", style="red")
        raise typer.Exit(2)
    rt = worker_runtime_from(settings)
    stop = _stop_on_signals()
    try:
        listener = AvlListener(rt.units, rt.clock, settings.avl)
        console.print(f"AVL worker: mqtt://{settings.avl.host}:{settings.avl.port} {listener.topic}")
        listener.run(stop)
    finally:
        rt.close()


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    return stop
