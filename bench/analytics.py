"""Analytics cost and alert latency: streams analysed per core against streams merely decoded per core, on the
same live sub streams, and how long an alert takes from its frame to the consoles' push channel, in one run.

Targets (DESIGN.md / issue): ratio >= 0.5 (analysis at most doubles the cost of decoding); alert latency p99
<= 500 ms from frame capture to the push channel.

Inputs: N simulated cameras with 640x360 sub streams at 5 fps showing the "traffic" scene (figures walking,
vehicles driving: realistic activity for a street camera), encoded by the simulator (GStreamer, x264). By
default (`--source recording`) the simulator's stream is first recorded for as long as a phase lasts, and then
each camera replays that recording from its start, over RTSP/TCP, in each phase: both phases decode the same
bitstream, and no encoder competes for the CPU while they are measured. With `--source live` both phases read
the simulator's live encoders instead, as earlier versions of this bench did: the encoders then share the two
cores, fall behind by turns (delivering 78-100% of the frames) and make the per-frame cost of decoding swing
between 0.76 and 1.1 ms from one phase to the next, which is what made this ratio jump between runs. CPU is this
process's user+system time over a steady window after a warm-up, so the simulator is not counted on either side;
the phases alternate (`--rounds`, 2 by default, 20 s windows each), so a machine that drifts in speed over
minutes weighs on both alike.
Streams per core are counted from the frames each phase actually decoded in its window (frames / fps =
stream-seconds).

- decode only: PyAV decodes every frame of every stream, opened and set up exactly as the worker does
  (`analytics.stream.open_sub_stream`: same options, same decoder threading), nothing else;
- analysed: the real AnalyticsWorker with the demo's street rules (intrusion zone over the lower half, line
  crossing counts, tamper, camera offline), alerts through the real AlertService into SQLite, published on
  the bus, fanned out by the console's LiveFeed. Latency runs from the moment the frame was decoded (the
  earliest point this process knows the frame exists; the camera's own capture clock is not trusted) to the
  moment the alert event reaches a LiveFeed listener.
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

import av
import numpy as np
from rich.progress import Progress

from sereno.analytics.stream import open_sub_stream
from sereno.analytics.worker import AnalyticsWorker
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


def decode_only(urls: list[str], stop: threading.Event, frames: list[int]) -> list[threading.Thread]:
    def run(index: int, url: str) -> None:
        while not stop.is_set():
            try:
                with open_sub_stream(url) as (src, stream):
                    for packet in src.demux(stream):  # as the worker's loop does, minus the analysis
                        if stop.is_set():
                            return
                        try:
                            decoded = packet.decode()
                        except av.error.InvalidDataError:
                            continue
                        frames[index] += sum(1 for frame in decoded if isinstance(frame, av.VideoFrame))
            except (av.error.FFmpegError, OSError):
                stop.wait(0.5)

    threads = [
        threading.Thread(target=run, args=(i, u), name=f"decode-only-{i}", daemon=True) for i, u in enumerate(urls)
    ]
    for thread in threads:
        thread.start()
    return threads


@dataclass(frozen=True)
class Counts:
    decoded: int
    analysed: int = 0

    def __sub__(self, other: "Counts") -> "Counts":
        return Counts(self.decoded - other.decoded, self.analysed - other.analysed)

    def __add__(self, other: "Counts") -> "Counts":
        return Counts(self.decoded + other.decoded, self.analysed + other.analysed)


@dataclass(frozen=True)
class Phase:
    cpu_s: float
    frames: Counts
    cpu_s_by_thread: dict[str, float]  # threads grouped by name (a camera's or lane's number dropped)

    def __add__(self, other: "Phase") -> "Phase":
        groups = dict(self.cpu_s_by_thread)
        for group, spent in other.cpu_s_by_thread.items():
            groups[group] = round(groups.get(group, 0.0) + spent, 3)
        by_cost = dict(sorted(groups.items(), key=lambda item: -item[1]))
        return Phase(self.cpu_s + other.cpu_s, self.frames + other.frames, by_cost)

    def streams_per_core(self, fps: int) -> float | None:
        """Stream-seconds decoded (frames / fps) per CPU second."""
        return self.frames.decoded / fps / self.cpu_s if self.cpu_s > 0 and self.frames.decoded else None


def measure(warmup: float, window: float, progress: Progress, label: str, count: Callable[[], Counts]) -> Phase:
    """CPU seconds this process spends during `window` after `warmup`, and the frames handled meanwhile."""
    task = progress.add_task(label, total=warmup + window)
    started = time.monotonic()
    while (elapsed := time.monotonic() - started) < warmup:
        progress.update(task, completed=elapsed)
        time.sleep(0.2)
    cpu0, frames0, threads0 = time.process_time(), count(), thread_cpu_s()
    while (elapsed := time.monotonic() - started) < warmup + window:
        progress.update(task, completed=elapsed)
        time.sleep(0.2)
    progress.update(task, completed=warmup + window)
    cpu, frames, threads1 = time.process_time() - cpu0, count() - frames0, thread_cpu_s()
    names = {thread.native_id: thread.name for thread in threading.enumerate()}
    groups: dict[str, float] = {}
    for tid, spent in threads1.items():
        group = re.sub(r"-(cam-)?\d+$", "", names.get(tid, "native (no Python thread)"))
        groups[group] = round(groups.get(group, 0.0) + spent - threads0.get(tid, 0.0), 3)
    return Phase(cpu, frames, dict(sorted(groups.items(), key=lambda item: -item[1])))


def thread_cpu_s() -> dict[int, float]:
    """User plus system CPU of each of this process's threads so far, by native thread id (Linux /proc): where
    a phase's CPU went, which the process total cannot say."""
    spent = {}
    for task in Path("/proc/self/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # the thread ended meanwhile
            continue
        spent[int(task.name)] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return spent


def worker_counts(worker: AnalyticsWorker) -> Counts:
    streams = [running.stream for running in list(worker.running.values())]
    return Counts(sum(s.decoded_frames for s in streams), sum(s.analytics.stats.frames for s in streams))


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
    parser.add_argument("--warmup", type=float, default=8.0)
    parser.add_argument("--window", type=float, default=20.0, help="seconds measured per phase and round")
    parser.add_argument("--rounds", type=int, default=2, help="decode-only and analysed phases, alternated")
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
    # a pipe cost 7 ms of CPU a second, a fifth of the decode-only phase's), and slow when somebody does.
    quiet = not sys.stderr.isatty()
    progress_bar = Progress(transient=True, disable=quiet, refresh_per_second=2)
    with progress_bar as progress:
        if args.source == "recording":
            recording = data / "scene.mp4"
            record_scene(spec, args.warmup + args.window + 8, recording, progress)
            server = SimulatedCameraServer([], clips={"scene": recording})
        else:
            server = SimulatedCameraServer(
                [SimulatedCamera(f"cam-{i:03d}", "traffic", spec, spec) for i in range(args.streams)]
            )
        with server as sim:
            # Replayed, every camera plays the recording from its start, each client on its own (the simulator's
            # clip mounts), so the phase that connects later sees the same frames as the first.
            url_of = (lambda _camera, _stream: sim.clip_url("scene")) if args.source == "recording" else sim.url
            site = city(args.streams, url_of)
            phases = run_phases(args, site, data, progress)
    print(json.dumps(report(args, *phases)))


@dataclass
class Alerting:
    """What the analysed phases raised and how fast it reached the push channel, over all rounds."""

    latencies_ms: list[float] = field(default_factory=list)
    alerts_raised: int = 0
    detector_batches: int = 0
    largest_batch: int = 0
    detector_timeouts: int = 0


def run_phases(
    args: argparse.Namespace, site: SiteConfig, data: Path, progress: Progress
) -> tuple[Phase, Phase, Alerting]:
    """Decode only, then analysed, on the same cameras, `args.rounds` times over: the machine's speed drifts
    over minutes (the same phase measured twice a minute apart differed by up to a fifth), and alternating the
    phases lets both see the same drift. Each analysed round gets a fresh runtime (and so a fresh bus and push
    listener), so that no console is listening while only decoding is measured."""
    decoding = analysing = Phase(0.0, Counts(0), {})
    alerting = Alerting()
    with closing(Runtime.build(Settings(data_dir=data))) as rt:
        rt.directory.sync_centres(site, "bench")
        rt.cameras.sync_from_site(site, cli_principal("bench"))
    urls = [c.sub_url for c in site.cameras]
    for turn in range(1, args.rounds + 1):
        decoding += decode_round(args, urls, progress, f"decode only ({turn}/{args.rounds})")
        with closing(Runtime.build(Settings(data_dir=data))) as rt:
            analysing += analysed_round(args, rt, site, progress, f"analysed ({turn}/{args.rounds})", alerting)
    return decoding, analysing, alerting


def decode_round(args: argparse.Namespace, urls: list[str], progress: Progress, label: str) -> Phase:
    stop, frames = threading.Event(), [0] * len(urls)
    threads = decode_only(urls, stop, frames)
    try:
        return measure(args.warmup, args.window, progress, label, lambda: Counts(sum(frames)))
    finally:
        stop.set()
        for thread in threads:
            thread.join(10)


def analysed_round(
    args: argparse.Namespace, rt: Runtime, site: SiteConfig, progress: Progress, label: str, alerting: Alerting
) -> Phase:
    listener = PushListener(rt)
    listener.thread.start()
    listener.ready.wait(10)
    worker = AnalyticsWorker(rt, site)
    stop = threading.Event()
    running = threading.Thread(target=worker.run, args=(stop,), name="analytics-worker", daemon=True)
    running.start()
    try:
        phase = measure(args.warmup, args.window, progress, label, lambda: worker_counts(worker))
        alerting.detector_timeouts += sum(
            r.stream.analytics.stats.detector_timeouts for r in list(worker.running.values())
        )
    finally:
        stop.set()
        running.join(30)
        listener.close()
    lanes = list(worker.pool.lanes.values())
    alerting.latencies_ms += listener.latencies_ms
    alerting.alerts_raised += worker.alerts_raised
    alerting.detector_batches += sum(lane.stats.batches for lane in lanes)
    alerting.largest_batch = max([alerting.largest_batch, *(lane.stats.largest_batch for lane in lanes)])
    return phase


def report(args: argparse.Namespace, decoding: Phase, analysing: Phase, alerting: Alerting) -> dict[str, object]:
    decode_per_core, analysed_per_core = decoding.streams_per_core(args.fps), analysing.streams_per_core(args.fps)
    latencies_ms = alerting.latencies_ms
    latencies = np.array(latencies_ms) if latencies_ms else None
    return {
        "streams_per_core": round(analysed_per_core, 2) if analysed_per_core else None,
        "decode_only_streams_per_core": round(decode_per_core, 2) if decode_per_core else None,
        "ratio": round(analysed_per_core / decode_per_core, 3) if analysed_per_core and decode_per_core else None,
        "alert_latency_p99_ms": round(float(np.percentile(latencies, 99)), 1) if latencies is not None else None,
        "alert_latency_p50_ms": round(float(np.percentile(latencies, 50)), 1) if latencies is not None else None,
        "alert_events": len(latencies_ms),
        "alerts_raised": alerting.alerts_raised,
        # the frames behind the figures: what the simulator delivered, and the share the analysis looked at
        "frames_decoded": {"decode_only": decoding.frames.decoded, "analysed": analysing.frames.decoded},
        "expected_frames": args.streams * args.fps * args.window * args.rounds,
        "analysed_share": round(analysing.frames.analysed / analysing.frames.decoded, 3)
        if analysing.frames.decoded
        else None,
        "cpu_s_by_thread": {"decode_only": decoding.cpu_s_by_thread, "analysed": analysing.cpu_s_by_thread},
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
