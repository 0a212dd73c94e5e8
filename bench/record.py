"""Recording cost: CPU seconds per stream-second of Sereno's recorder against one `ffmpeg -c copy -f segment` per
camera, on the same live RTSP inputs, in one run.

Target (DESIGN.md): ratio <= 0.5 with zero packets lost at >= 50 simultaneous 1080p streams.

Inputs: one 1080p H.264 clip (made here with ffmpeg's testsrc2, ~4 Mbit/s, 2 s GOP), served live by the
simulated camera server to every client from its start, paced by its timestamps (no re-encoding). Each side
records all streams at once; CPU is read from /proc for the recorder process, or the sum of the ffmpeg
processes, over the same steady window after a warm-up (start-up is excluded on both sides).

Sereno's side is the real worker (`sereno worker record`): receive, segment, SHA-256, AES-256-GCM, fsync'd
files, index rows. Packets lost = RTP sequence gaps seen by the recorder + frames missing from the stored,
indexed segments (expected from their time span at the clip's frame rate).
"""

import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.progress import Progress

from sereno.app import Runtime
from sereno.config.cameras import CameraConfig
from sereno.config.settings import Settings
from sereno.config.site import load_site
from sereno.core.auth.principal import cli_principal
from sereno.sim.cameras import SimulatedCameraServer
from sereno.sim.demo import bundled_site_path

FPS = 25
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def make_clip(path: Path, seconds: int, kbps: int, size: str) -> None:
    if path.exists():
        return
    subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"testsrc2=size={size}:rate={FPS}",
            "-t",
            str(seconds),
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-tune",
            "zerolatency",
            "-b:v",
            f"{kbps}k",
            "-maxrate",
            f"{kbps}k",
            "-bufsize",
            f"{kbps // 2}k",
            "-g",
            str(2 * FPS),
            "-pix_fmt",
            "yuv420p",
            str(path),
        ],
        check=True,
    )


def measure(pids: list[int], warmup_s: float, window_s: float, progress: Progress, label: str) -> float:
    task = progress.add_task(label, total=warmup_s + window_s)
    started = time.monotonic()
    while (elapsed := time.monotonic() - started) < warmup_s:
        progress.update(task, completed=elapsed)
        time.sleep(0.5)
    before = sum(cpu_seconds(p) for p in pids)
    t0 = time.monotonic()
    while (elapsed := time.monotonic() - t0) < window_s:
        progress.update(task, completed=warmup_s + elapsed)
        time.sleep(0.5)
    after = sum(cpu_seconds(p) for p in pids)
    progress.update(task, completed=warmup_s + window_s)
    return (after - before) / (time.monotonic() - t0)


def sereno_side(urls: list[str], workdir: Path, args: argparse.Namespace, progress: Progress) -> tuple[float, int]:
    data = workdir / "sereno-data"
    settings = Settings(data_dir=data)
    rt = Runtime.build(settings)
    admin = cli_principal("bench")
    site = load_site(bundled_site_path())
    rt.directory.sync_centres(site, "bench")
    centre = site.centres[0].code
    for i, url in enumerate(urls):
        rt.cameras.create(
            admin,
            CameraConfig.model_validate(
                {
                    "id": f"bench-{i:03d}",
                    "centre": centre,
                    "name": f"Bench camera {i}",
                    "lat": 0.0,
                    "lon": 0.0,
                    "main_url": url,
                    "sub_url": url,
                    "purpose": "Recording benchmark input",
                    "retention_days": 1,
                }
            ),
        )
    rt.close()
    env = {**os.environ, "SERENO_DATA_DIR": str(data)}
    env.pop("MALLOC_MMAP_THRESHOLD_", None)
    worker = subprocess.Popen(
        [sys.executable, "-m", "sereno", "worker", "record"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        cpu = measure([worker.pid], args.warmup, args.window, progress, f"sereno recorder, {len(urls)} streams")
    finally:
        worker.send_signal(signal.SIGTERM)
        _, err = worker.communicate(timeout=120)
        if worker.returncode not in (0, -signal.SIGTERM):
            raise SystemExit(f"recorder failed ({worker.returncode}): {err.decode()[-2000:]}")
    return cpu / len(urls), count_lost(settings, len(urls))


def count_lost(settings: Settings, streams: int) -> int:
    """RTP sequence gaps, plus frames missing between the first and last stored frame of each stream."""
    rt = Runtime.build(settings)
    admin = cli_principal("bench")
    lost = 0
    try:
        for health in rt.ingest.overview(admin):
            lost += health.packets_lost
        for camera in rt.cameras.registered():
            segments = rt.recording.segments(admin, camera.id, 0, 2**62)
            if not segments:
                lost += 1  # a stream that recorded nothing lost everything
                continue
            frames = sum(s.frames for s in segments)
            expected = round((segments[-1].end_us - segments[0].start_us) * FPS / 1_000_000)
            lost += max(0, expected - frames)
    finally:
        rt.close()
    return lost


def ffmpeg_side(urls: list[str], workdir: Path, args: argparse.Namespace, progress: Progress) -> float:
    out = workdir / "ffmpeg"
    out.mkdir()
    procs = [
        subprocess.Popen(
            [
                "ffmpeg",
                "-nostdin",
                "-loglevel",
                "error",
                "-rtsp_transport",
                "tcp",
                "-i",
                url,
                "-c",
                "copy",
                "-f",
                "segment",
                "-segment_time",
                "10",
                "-segment_format",
                "mp4",
                "-reset_timestamps",
                "1",
                "-segment_format_options",
                "movflags=frag_keyframe+empty_moov+default_base_moof",
                str(out / f"{i:03d}-%05d.mp4"),
            ],
            stdout=subprocess.DEVNULL,
        )
        for i, url in enumerate(urls)
    ]
    try:
        cpu = measure([p.pid for p in procs], args.warmup, args.window, progress, f"ffmpeg -c copy, {len(urls)} procs")
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=30)
    return cpu / len(urls)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--streams", type=int, default=50)
    parser.add_argument("--warmup", type=float, default=12.0, help="seconds before the CPU window")
    parser.add_argument("--window", type=float, default=30.0, help="seconds of the CPU window")
    parser.add_argument("--kbps", type=int, default=4000)
    parser.add_argument("--clip", type=Path, default=None, help="reuse this 1080p H.264 MP4 instead of making one")
    parser.add_argument("--size", default="1920x1080", help="picture size of the clip made here (smoke runs)")
    args = parser.parse_args()
    if shutil.which("ffmpeg") is None:
        raise SystemExit("ffmpeg is needed (the baseline, and to make the clip)")
    workdir = Path(tempfile.mkdtemp(prefix="sereno-bench-record-"))
    clip = args.clip or workdir / "clip-1080p.mp4"
    make_clip(clip, int(args.warmup + args.window + 30), args.kbps, args.size)
    try:
        with SimulatedCameraServer([], clips={"c": clip}) as server, Progress(transient=True) as progress:
            urls = [server.clip_url("c") for _ in range(args.streams)]
            ours, lost = sereno_side(urls, workdir, args, progress)
            theirs = ffmpeg_side(urls, workdir, args, progress)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(
        json.dumps(
            {
                "streams": args.streams,
                "cpu_s_per_stream_s": round(ours, 6),
                "ffmpeg_cpu_s_per_stream_s": round(theirs, 6),
                "ratio_vs_ffmpeg": round(ours / theirs, 3) if theirs else None,
                "packets_lost": lost,
                "input": f"{args.size} H.264 {FPS} fps ~{args.kbps} kbit/s over RTSP/TCP",
                "window_s": args.window,
                "machine": {"cpus": os.cpu_count(), "processor": platform.processor() or platform.machine()},
            }
        )
    )


if __name__ == "__main__":
    main()
