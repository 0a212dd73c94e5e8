"""Analytics cost and alert latency: streams analysed per core against the same streams merely decoded per core,
and how long an alert takes from its frame to the consoles' push channel, in one run.

Targets (DESIGN.md / issue): ratio >= 0.5 (analysis at most doubles the cost of decoding); alert latency p99
<= 500 ms from frame capture to the push channel.

Inputs: N simulated cameras with 640x360 sub streams at 5 fps showing the "traffic" scene (figures walking,
vehicles driving: realistic activity for a street camera), encoded by the simulator (GStreamer, x264). By
default (`--source recording`) the simulator's stream is first recorded for as long as the run lasts, and then
each camera replays that recording from its start over RTSP/TCP, so that no encoder competes for the CPU while
the run is measured. With `--source live` the cameras read the simulator's live encoders instead: they share
the two cores, fall behind by turns and make the cost of decoding swing from one window to the next.

One AnalyticsWorker runs the cameras for the whole run: the demo's street rules (intrusion zone over the lower
half, line crossing counts, tamper, camera offline), alerts through the real AlertService into SQLite, published
on the bus, fanned out by the console's LiveFeed to a listener. Its lanes can be switched off (`SwitchedRunner`):
each camera's thread then decodes every frame and drops it where it would have handed it to the analysis. The
run alternates windows with the analysis on and off (`--rounds` pairs of `--window` seconds, each after
`--settle` seconds that count for neither, so that the lane has drained or warmed up), in the order on-off,
off-on, ... so that a machine whose speed drifts weighs on both alike.

Why so: this benchmark used to measure decoding alone on separate threads, then the worker, in two phases of
20 s, twice. The same code then read ratios between 0.46 and 0.54 from one run to the next: the cameras'
decoding cost up to 17% more in one phase than in the other, and on this project's shared 2-vCPU machines
the speed of the same work drifts by a fifth over half a minute. Windows of a few seconds on the same threads
see the same machine.

- decode only: the CPU of the cameras' threads in the windows with the analysis off (demux, decode, the
  stream's health count), over the frames they decoded;
- analysed: the whole process's CPU in the windows with the analysis on (cameras, lane, alerts, the push
  listener, the worker's health reports), over the frames decoded meanwhile.
Streams per core = stream-seconds (frames / fps) per CPU second. CPU comes from /proc's schedstat, in
nanoseconds per thread. Latency runs from the moment the frame was decoded (the earliest point this process
knows the frame exists; the camera's own capture clock is not trusted) to the moment the alert event reaches
the listener.
"""

import argparse
import asyncio
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from rich.progress import Progress

from sereno.analytics.runner import AnalysisRunner, Job
from sereno.analytics.worker import AnalyticsWorker, freeze_startup_objects
from sereno.app import Runtime
from sereno.config.analytics import CameraAnalyticsConfig
from sereno.config.settings import Settings
from sereno.config.site import SiteConfig, load_site
from sereno.core.auth.principal import cli_principal
from sereno.sim.cameras import SimulatedCamera, SimulatedCameraServer, StreamSpec
from sereno.sim.demo import bundled_site_path

RULES = [
    {"kind": "intrusion", "name": "Carriageway", "zone": [[0, 0.5], [1, 0.5], [1, 1], [0, 1]], "dwell_s": 0.4},
    {"kind": "line-crossing", "name": "Lane", "line": [[0.5, 0], [0.5, 1]], "alert_direction": "forward",
     "alert_over_per_minute": 0},
    {"kind": "tamper"},
    {"kind": "camera-offline", "after_s": 10},
]  # fmt: skip


def city(count: int, url_of: Callable[[str, str], str]) -> SiteConfig:
    """The demo city with `count` street cameras (copies of its first camera), each analysed with RULES, whose
    streams are at `url_of(camera id, "main" or "sub")`."""
    site = load_site(bundled_site_path())
    template = site.cameras[0]
    cameras = [
        template.model_copy(
            update={"id": f"cam-{i:03d}", "name": f"Street {i}", "main_url": url_of(f"cam-{i:03d}", "main"),
                    "sub_url": url_of(f"cam-{i:03d}", "sub")}
        )
        for i in range(count)
    ]  # fmt: skip
    analytics = [CameraAnalyticsConfig.model_validate({"camera": c.id, "rules": RULES}) for c in cameras]
    return site.model_copy(update={"cameras": cameras, "analytics": analytics})


def record_scene(spec: StreamSpec, seconds: float, path: Path, progress: Progress) -> None:
    """`seconds` of the simulator's traffic sub stream, stored as it was sent (ffmpeg -c copy)."""
    with SimulatedCameraServer([SimulatedCamera("scene", "traffic", spec, spec)]) as sim:
        command = ["ffmpeg", "-loglevel", "error", "-y", "-rtsp_transport", "tcp", "-i", sim.url("scene", "sub")]
        task = progress.add_task("recording the scene", total=seconds)
        started = time.monotonic()
        with subprocess.Popen([*command, "-c", "copy", "-t", f"{seconds:.1f}", str(path)]) as recorder:
            while recorder.poll() is None:
                progress.update(task, completed=min(seconds, time.monotonic() - started))
                time.sleep(0.2)
        if recorder.returncode != 0 or not path.exists():
            raise SystemExit(f"recording the simulated scene failed (ffmpeg exit {recorder.returncode})")


class SwitchedRunner(AnalysisRunner):
    """The worker's lanes, with a switch: while `analysing` is clear, a camera's frame is dropped on its own
    thread where it would have been queued, so those threads decode exactly as they do analysed, and nothing
    else runs."""

    def __init__(self, lanes: int = 1, gather_s: float = 0.2, max_waiting: int = 256) -> None:
        super().__init__(lanes, gather_s, max_waiting)
        self.analysing = threading.Event()
        self.analysing.set()

    def submit(self, camera_id: str, job: Job) -> bool:
        return super().submit(camera_id, job) if self.analysing.is_set() else True


@dataclass(frozen=True)
class Snapshot:
    """Where the process stands at one moment: CPU so far, in total and by thread, and the frames handled."""

    cpu_s: float
    by_thread: dict[int, float]  # native thread id: CPU seconds
    decoded: int
    analysed: int

    @classmethod
    def take(cls, worker: AnalyticsWorker) -> "Snapshot":
        streams = [running.stream for running in list(worker.running.values())]
        return cls(
            time.process_time(),
            thread_cpu_s(),
            sum(s.decoded_frames for s in streams),
            sum(s.analytics.stats.frames for s in streams),
        )


def thread_cpu_s() -> dict[int, float]:
    """CPU time of each of this process's threads so far, by native thread id, from /proc's schedstat (in
    nanoseconds; /proc's stat counts 10 ms ticks, too coarse for windows of a few seconds)."""
    spent = {}
    for task in Path("/proc/self/task").iterdir():
        try:
            spent[int(task.name)] = int((task / "schedstat").read_text().split()[0]) / 1e9
        except OSError:  # the thread ended meanwhile
            continue
    return spent


@dataclass
class Phase:
    """The windows of one kind (analysis on, or off), added up."""

    cpu_s: float = 0.0  # what counts: all of it analysed, the cameras' threads decoding only
    frames: int = 0
    analysed: int = 0
    cpu_s_by_thread: dict[str, float] = field(default_factory=dict)  # by group: a camera's number dropped
    rounds: list[tuple[int, float]] = field(default_factory=list)  # (frames, cpu_s) of each window

    def add(self, before: Snapshot, after: Snapshot, cameras_only: bool) -> None:
        names = {thread.native_id: thread.name for thread in threading.enumerate()}
        groups: dict[str, float] = {}
        for tid, spent in after.by_thread.items():
            group = re.sub(r"-(cam-)?\d+$", "", names.get(tid, "native (no Python thread)"))
            groups[group] = groups.get(group, 0.0) + spent - before.by_thread.get(tid, 0.0)
        cpu = groups.get(CAMERA_THREADS, 0.0) if cameras_only else after.cpu_s - before.cpu_s
        frames = after.decoded - before.decoded
        self.cpu_s += cpu
        self.frames += frames
        self.analysed += after.analysed - before.analysed
        self.rounds.append((frames, cpu))
        for group, spent in groups.items():
            self.cpu_s_by_thread[group] = self.cpu_s_by_thread.get(group, 0.0) + spent

    def streams_per_core(self, fps: int) -> float | None:
        """Stream-seconds decoded (frames / fps) per CPU second."""
        return self.frames / fps / self.cpu_s if self.cpu_s > 0 and self.frames else None

    def by_thread(self) -> dict[str, float]:
        return {group: round(spent, 3) for group, spent in sorted(self.cpu_s_by_thread.items(), key=lambda i: -i[1])}


CAMERA_THREADS = "analytics"  # the worker's camera threads are named analytics-<camera id>


class PushListener:
    """A console's end of the live feed, in its own event loop: records when each alert event arrives."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.latencies_ms: list[float] = []
        self.ready = threading.Event()
        self.done = threading.Event()
        self.thread = threading.Thread(target=asyncio.run, args=(self._listen(),), name="push-listener", daemon=True)

    def close(self) -> None:
        self.done.set()
        self.thread.join(10)

    async def _listen(self) -> None:
        await self.rt.bus.start()
        national = cli_principal("bench")
        events = self.rt.live.events(national, heartbeat_s=0.5)
        self.ready.set()
        async for name, data in events:
            if self.done.is_set():
                break
            if name != "alert":
                continue
            payload = json.loads(data)
            seen_us = payload.get("first_us") if payload.get("change") == "raised" else payload.get("last_us")
            if seen_us:
                self.latencies_ms.append((self.rt.clock.now_us() - seen_us) / 1000)
        await events.aclose()
        await self.rt.bus.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--streams", type=int, default=8)
    parser.add_argument("--warmup", type=float, default=8.0, help="seconds from the start before measuring")
    parser.add_argument("--window", type=float, default=5.0, help="seconds measured per window")
    parser.add_argument("--settle", type=float, default=1.5, help="seconds after each switch, measured by neither")
    parser.add_argument("--rounds", type=int, default=6, help="pairs of windows, one analysed and one decode only")
    parser.add_argument("--size", default="640x360")
    parser.add_argument("--fps", type=int, default=5)
    parser.add_argument(
        "--source", choices=["recording", "live"], default="recording", help="replay one recording, or live encoders"
    )
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    spec = StreamSpec(width, height, args.fps, 400)
    data = Path(tempfile.mkdtemp(prefix="sereno-bench-analytics-"))
    # The progress bar's refresh thread runs in the measured process: off when nobody watches (refreshing into
    # a pipe cost 7 ms of CPU a second, a fifth of what decoding 8 streams costs), and slow when somebody does.
    quiet = not sys.stderr.isatty()
    progress_bar = Progress(transient=True, disable=quiet, refresh_per_second=2)
    with progress_bar as progress:
        if args.source == "recording":
            recording = data / "scene.mp4"
            record_scene(spec, run_seconds(args) + 8, recording, progress)
            server = SimulatedCameraServer([], clips={"scene": recording})
        else:
            server = SimulatedCameraServer(
                [SimulatedCamera(f"cam-{i:03d}", "traffic", spec, spec) for i in range(args.streams)]
            )
        with server as sim:
            # Replayed, every camera plays the recording from its start, each client on its own (the simulator's
            # clip mounts).
            url_of = (lambda _camera, _stream: sim.clip_url("scene")) if args.source == "recording" else sim.url
            site = city(args.streams, url_of)
            phases = run(args, site, data, progress)
    print(json.dumps(report(args, *phases)))


def run_seconds(args: argparse.Namespace) -> float:
    return float(args.warmup + 2 * args.rounds * (args.settle + args.window))


@dataclass
class Alerting:
    """What the analysed windows raised and how fast it reached the push channel."""

    latencies_ms: list[float] = field(default_factory=list)
    alerts_raised: int = 0
    detector_batches: int = 0
    largest_batch: int = 0
    detector_timeouts: int = 0


def run(args: argparse.Namespace, site: SiteConfig, data: Path, progress: Progress) -> tuple[Phase, Phase, Alerting]:
    """The worker on the cameras, its analysis switched on and off by turns (see the module's docstring);
    decode only, analysed, and what was alerted."""
    decoding, analysing, alerting = Phase(), Phase(), Alerting()
    with closing(Runtime.build(Settings(data_dir=data))) as rt:
        rt.directory.sync_centres(site, "bench")
        rt.cameras.sync_from_site(site, cli_principal("bench"))
        listener = PushListener(rt)
        listener.thread.start()
        listener.ready.wait(10)
        freeze_startup_objects()  # as `sereno worker analytics` does
        worker = AnalyticsWorker(rt, site, runner_type=SwitchedRunner)
        stop = threading.Event()
        running = threading.Thread(target=worker.run, args=(stop,), name="analytics-worker", daemon=True)
        running.start()
        task = progress.add_task("analysed and decode only, by turns", total=run_seconds(args))
        started = time.monotonic()

        def wait(seconds: float) -> None:
            until = time.monotonic() + seconds
            while (left := until - time.monotonic()) > 0:
                progress.update(task, completed=time.monotonic() - started)
                time.sleep(min(0.2, left))

        try:
            wait(args.warmup)
            if not isinstance(worker.runner, SwitchedRunner):
                raise SystemExit("the analytics worker did not start its lanes during the warm-up")
            for turn in range(args.rounds):
                for analysed in (True, False) if turn % 2 == 0 else (False, True):
                    if analysed:
                        worker.runner.analysing.set()
                    else:
                        worker.runner.analysing.clear()
                    wait(args.settle)
                    before = Snapshot.take(worker)
                    wait(args.window)
                    (analysing if analysed else decoding).add(before, Snapshot.take(worker), not analysed)
            alerting.detector_timeouts = sum(
                r.stream.analytics.stats.detector_timeouts for r in list(worker.running.values())
            )
        finally:
            stop.set()
            running.join(30)
            listener.close()
    lanes = list(worker.pool.lanes.values())
    alerting.latencies_ms = listener.latencies_ms
    alerting.alerts_raised = worker.alerts_raised
    alerting.detector_batches = sum(lane.stats.batches for lane in lanes)
    alerting.largest_batch = max([0, *(lane.stats.largest_batch for lane in lanes)])
    return decoding, analysing, alerting


def report(args: argparse.Namespace, decoding: Phase, analysing: Phase, alerting: Alerting) -> dict[str, object]:
    decode_per_core, analysed_per_core = decoding.streams_per_core(args.fps), analysing.streams_per_core(args.fps)
    latencies_ms = alerting.latencies_ms
    latencies = np.array(latencies_ms) if latencies_ms else None
    by_round = [
        round((on_frames / on_cpu) / (off_frames / off_cpu), 3)
        for (on_frames, on_cpu), (off_frames, off_cpu) in zip(analysing.rounds, decoding.rounds, strict=True)
        if on_cpu > 0 and off_cpu > 0 and off_frames
    ]
    return {
        "streams_per_core": round(analysed_per_core, 2) if analysed_per_core else None,
        "decode_only_streams_per_core": round(decode_per_core, 2) if decode_per_core else None,
        "ratio": round(analysed_per_core / decode_per_core, 3) if analysed_per_core and decode_per_core else None,
        "alert_latency_p99_ms": round(float(np.percentile(latencies, 99)), 1) if latencies is not None else None,
        "alert_latency_p50_ms": round(float(np.percentile(latencies, 50)), 1) if latencies is not None else None,
        "ratio_by_round": by_round,  # each pair of windows on its own: how far the figure above can be trusted
        "alert_events": len(latencies_ms),
        "alerts_raised": alerting.alerts_raised,
        # the frames behind the figures: what the simulator delivered, and the share the analysis looked at
        "frames_decoded": {"decode_only": decoding.frames, "analysed": analysing.frames},
        "expected_frames": args.streams * args.fps * args.window * args.rounds,
        "analysed_share": round(analysing.analysed / analysing.frames, 3) if analysing.frames else None,
        # decode only counts the cameras' threads ("analytics"); analysed counts the whole process
        "cpu_s_by_thread": {"decode_only": decoding.by_thread(), "analysed": analysing.by_thread()},
        "detector_batches": alerting.detector_batches,
        "largest_batch": alerting.largest_batch,
        "detector_timeouts": alerting.detector_timeouts,
        "rounds": args.rounds,
        "streams": args.streams,
        "size": args.size,
        "fps": args.fps,
        "window_s": args.window,
        "source": args.source,
        "machine": {"cpus": os.cpu_count(), "processor": platform.processor() or platform.machine()},
    }


if __name__ == "__main__":
    main()
