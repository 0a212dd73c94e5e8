"""Scripted H.264 clips for driving the analytics over real RTSP: a backdrop, solid boxes moving along
waypoints (a walker, a car, a crowd), an optional whole-picture effect (a lens covered, blurred, a camera
turned), and optionally damaged packets, rendered from numpy and encoded with PyAV into MP4s that the
simulator serves at /clip/NAME.

The luma is written straight into the Y plane (chroma neutral), with no colour conversion on the way: what a
script draws is what the pipeline's Y plane holds after decoding, give or take compression, so a thermal
script can put temperatures in luma exactly.

Why the still lead-in every script needs: a client joining a clip loses up to a second or so (FFmpeg's
probe reads up to a second of frames, which `nobuffer` then drops, and decoding waits for a keyframe), and the motion
background is the first frame the pipeline sees. Anything moving before LEAD_IN_S could be learned as the
backdrop. Frames are 25 a second with a keyframe every 5.
"""

import itertools
import math
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import pytest

from sereno.analytics.scene import Luma, Point
from sereno.sim.cameras import SimulatedCamera, SimulatedCameraServer, gstreamer_available

WIDTH, HEIGHT, FPS = 320, 180, 25
LEAD_IN_S = 2.0
Effect = Callable[[float, Luma], Luma]  # (seconds into the clip, the drawn frame) -> the frame the camera sends


@dataclass(frozen=True)
class Mover:
    """A solid box whose foot (bottom centre: what zones and lines test) goes in straight legs between
    waypoints (seconds, x, y in picture shares); unseen before the first, still after the last, gone at
    `until_s`. Boxes are clipped at the picture's edge, so a mover can enter from outside it."""

    size: tuple[float, float]  # width, height, as shares of the picture
    path: tuple[tuple[float, float, float], ...]
    luma: int = 30
    until_s: float = math.inf

    def foot(self, t: float) -> Point | None:
        if t < self.path[0][0] or t >= self.until_s:
            return None
        for (t0, x0, y0), (t1, x1, y1) in itertools.pairwise(self.path):
            if t <= t1:
                share = (t - t0) / (t1 - t0) if t1 > t0 else 1.0
                return x0 + (x1 - x0) * share, y0 + (y1 - y0) * share
        return self.path[-1][1], self.path[-1][2]

    def draw(self, frame: Luma, t: float) -> None:
        foot = self.foot(t)
        if foot is None:
            return
        height, width = frame.shape
        w, h = self.size[0] * width, self.size[1] * height
        x0, y0 = round(foot[0] * width - w / 2), round(foot[1] * height - h)
        frame[max(0, y0) : max(0, y0 + round(h)), max(0, x0) : max(0, x0 + round(w))] = self.luma


@dataclass(frozen=True)
class Script:
    seconds: float
    backdrop: Luma
    movers: tuple[Mover, ...] = ()
    effect: Effect | None = None
    damaged: Callable[[float], bool] | None = None  # seconds -> whether that frame's packet is spoiled

    def frame(self, t: float) -> Luma:
        frame = self.backdrop.copy()
        for mover in self.movers:
            mover.draw(frame, t)
        return self.effect(t, frame) if self.effect is not None else frame

    def frames(self) -> Iterator[Luma]:
        for index in range(round(self.seconds * FPS)):
            yield self.frame(index / FPS)


def plain(level: int = 110) -> Luma:
    return np.full((HEIGHT, WIDTH), level, np.uint8)


def textured(seed: int = 0, block: int = 8, width: int = WIDTH) -> Luma:
    """Random grey blocks: the edges a camera's normal sharpness and a phase correlation need."""
    rng = np.random.default_rng(seed)
    cells = rng.integers(40, 220, (HEIGHT // block + 1, width // block + 1)).astype(np.uint8)
    picture: Luma = cells.repeat(block, 0).repeat(block, 1)[:HEIGHT, :width].copy()
    return picture


def write_clip(path: Path, script: Script) -> Path:
    """Encode the script as MP4/H.264. Packets of frames the script says are damaged are spoiled in turn:
    slice data overwritten with noise, the NAL cut to a third, or the whole packet replaced by a noise NAL."""
    damaged = script.damaged
    noise = random.Random(path.name)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "18", "g": "5", "bf": "0"}

        def put(packet: av.Packet) -> None:
            if damaged is not None and packet.pts is not None and damaged(packet.pts / FPS):
                packet = _spoiled(packet, noise)
            out.mux(packet)

        planes = np.full((HEIGHT * 3 // 2, WIDTH), 128, np.uint8)
        for index, luma in enumerate(script.frames()):
            planes[:HEIGHT] = luma
            frame = av.VideoFrame.from_ndarray(planes, format="yuv420p")
            frame.pts = index
            for packet in stream.encode(frame):
                put(packet)
        for packet in stream.encode(None):
            put(packet)
    return path


def _spoiled(packet: av.Packet, noise: random.Random) -> av.Packet:
    data = bytes(packet)
    pts = packet.pts or 0
    kind = pts % 3

    def junk(n: int) -> bytes:  # no zero bytes: noise that never forms a start code, so it stays one NAL
        return bytes(noise.randrange(1, 256) for _ in range(n))

    if kind == 0:
        spoiled = data[:8] + junk(len(data) - 8)
    elif kind == 1:
        spoiled = data[: max(6, len(data) // 3)]
    else:
        spoiled = b"\x00\x00\x00\x01\x41" + junk(300)  # a non-IDR slice NAL of noise
    replacement = av.Packet(spoiled)
    replacement.pts, replacement.dts, replacement.time_base = packet.pts, packet.dts, packet.time_base
    replacement.stream = packet.stream
    replacement.is_keyframe = packet.is_keyframe
    return replacement


@contextmanager
def serve(
    directory: Path, scripts: dict[str, Script], cameras: list[SimulatedCamera] | None = None
) -> Iterator[SimulatedCameraServer]:
    """One simulator for a test module: every script as a clip (each client plays it from its start), plus
    generated cameras where a test needs one it can drop."""
    if not gstreamer_available():
        pytest.skip("GStreamer's RTSP server is not installed")
    clips = {name: write_clip(directory / f"{name}.mp4", script) for name, script in scripts.items()}
    with SimulatedCameraServer(cameras or [], clips=clips) as server:
        yield server
