"""Simulated cameras over real RTSP: synthetic H.264 scenes served by GStreamer's rtsp-server.

Runs under Debian's /usr/bin/python3 (where PyGObject and GstRtspServer live), never inside the venv, so it
imports only the standard library and `gi`. Sereno starts it as a child process (`sim/cameras.py`).

Each camera gets two mounts, /<id>/main and /<id>/sub, with its own resolution, frame rate and bitrate. A
scene is a backdrop with figures walking and vehicles driving across it, so that motion detection and object
tracking have something person- and car-like to find, by day and by night; "empty" is the backdrop alone.
Each `--clip NAME=PATH` mounts /clip/NAME, which replays an MP4's own H.264 to every client from its start.

Control is line-based on stdin: `drop <id>` disconnects the camera's clients and refuses new ones (a dead
camera), `resume <id>` brings it back, `quit` stops. The server prints `ready <port>` once it listens.
"""

import argparse
import os
import re
import sys
import threading
from dataclasses import dataclass

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


@dataclass(frozen=True)
class Actor:
    """A box that crosses the view, wrapping round to enter again once it has left.

    Sizes, heights and speeds are in frame heights (per second), so a scene looks alike at 1080p and at the
    tests' 160x96 and a walker keeps a walker's pace whatever the resolution. Position is a pure function of
    the frame's timestamp: every client of a shared stream sees the same thing, and a run is reproducible.
    """

    colour: int  # ARGB
    width: float
    height: float
    start: float  # where the bottom edge is on entering, in frame heights from the top
    end: float  # ... and on leaving: walkers drift up or down the view
    speed: float  # frame heights per second
    phase: float  # how far along its loop it is at time 0, 0..1; same-lane vehicles need gaps of 0.3 or more
    rightwards: bool = True
    lamp: int | None = None  # ARGB of a headlight at the leading edge; at night the lights are what shows


def walker(
    colour: int, start: float, end: float, speed: float, phase: float, rightwards: bool, size: float = 0.15
) -> Actor:
    """About 1:3 and 12-18% of the frame: a person seen from a pole, at 1.2-1.8 m/s if the view is ~11 m tall."""
    return Actor(colour, size / 3, size, start, end, speed, phase, rightwards)


def car(
    colour: int,
    lane: float,
    speed: float,
    phase: float,
    rightwards: bool,
    *,
    length: float = 0.27,
    height: float = 0.09,
    lamp: int | None = None,
) -> Actor:
    """Side-on, about 3:1; 0.6-0.85 frame heights per second is town traffic at 25-35 km/h in a ~11 m view."""
    return Actor(colour, length, height, lane, lane, speed, phase, rightwards, lamp)


@dataclass(frozen=True)
class Scene:
    backdrop: int
    # Opacity of a sensor-noise layer over everything, its peak well under 30 grey levels. Only where the scene
    # is about noise (night, the still view): grain costs about a third of a core per 1080p stream, mostly in x264.
    noise: float
    road: tuple[float, float, int] | None  # top, bottom (frame heights), colour
    actors: tuple[Actor, ...] = ()


# Pavement above and below a two-lane road; lane 1 drives right, lane 2 left.
_ROAD = (0.62, 0.87)
_LANE_1, _LANE_2 = 0.735, 0.855
_DAY_WALKERS = (
    walker(0xFF20242C, 0.45, 0.50, 0.13, 0.00, True),
    walker(0xFFE8E0D0, 0.58, 0.54, 0.11, 0.30, False, 0.17),
    walker(0xFF3050B0, 0.40, 0.41, 0.16, 0.62, True, 0.13),
    walker(0xFF202020, 0.99, 0.95, 0.12, 0.80, False, 0.16),
    walker(0xFFD8D8D0, 0.53, 0.47, 0.14, 0.15, False),
)
_NIGHT_WALKERS = tuple(
    walker(colour, w.start, w.end, w.speed, w.phase, w.rightwards, w.height)
    for colour, w in zip((0xFF40464C, 0xFF5A5E62, 0xFF3E4A5E, 0xFF464646, 0xFF55585A), _DAY_WALKERS, strict=True)
)
_HEADLIGHT = 0xFFF0F0D8
SCENES = {
    "day": Scene(
        0xFF7A8468,
        0.0,
        (*_ROAD, 0xFF3C3F44),
        (
            *_DAY_WALKERS,
            car(0xFFE6E6E6, _LANE_1, 0.8, 0.0, True),
            car(0xFFE0C040, _LANE_2, 0.6, 0.5, False),
        ),
    ),
    "night": Scene(
        0xFF101418,
        0.09,
        (*_ROAD, 0xFF181A1E),
        (
            *_NIGHT_WALKERS,
            car(0xFF50545A, _LANE_1, 0.8, 0.0, True, lamp=_HEADLIGHT),
            car(0xFF484C50, _LANE_2, 0.6, 0.5, False, lamp=_HEADLIGHT),
        ),
    ),
    "traffic": Scene(
        0xFF7A8468,
        0.0,
        (*_ROAD, 0xFF3C3F44),
        (
            car(0xFFE6E6E6, _LANE_1, 0.85, 0.00, True),
            car(0xFFE0C040, _LANE_1, 0.85, 0.40, True),
            car(0xFF101010, _LANE_1, 0.85, 0.70, True, length=0.30),
            car(0xFFC8D0E0, _LANE_2, 0.70, 0.00, False, length=0.55, height=0.14),  # a van or a lorry
            car(0xFFE07020, _LANE_2, 0.70, 0.35, False),
            car(0xFFF0F0F0, _LANE_2, 0.70, 0.65, False, length=0.25),
            walker(0xFF20242C, 0.50, 0.46, 0.13, 0.2, True),
        ),
    ),
    "empty": Scene(0xFF7A8468, 0.05, (*_ROAD, 0xFF3C3F44)),
}


def _even(pixels: float) -> int:
    """I420 halves chroma in both directions; even sizes keep boxes from smearing a chroma column over the edge."""
    return max(2, int(pixels / 2 + 0.5) * 2)


class Stage:
    """One stream's rendering of a scene: the GStreamer description, and the per-frame moves of its actors.

    The scene is composed inside GStreamer (`compositor` over `videotestsrc` boxes), because the server's
    interpreter has no numpy and drawing frames in Python would not keep up with 1080p at 25 fps.
    """

    def __init__(self, scene: str, width: int, height: int, fps: int, kbps: int) -> None:
        self.scene = SCENES[scene]
        self.width, self.height, self.fps, self.kbps = width, height, fps, kbps
        # (pad, actor, lamp?) per moving box, in compositing order after the backdrop and the road.
        self.boxes: list[tuple[str, Actor, bool]] = []
        first = 2 if self.scene.road else 1
        self.margin = max((self.size(actor, False)[0] for actor in self.scene.actors), default=0)
        for actor in self.scene.actors:
            self.boxes.append((f"sink_{first + len(self.boxes)}", actor, False))
            if actor.lamp is not None:
                self.boxes.append((f"sink_{first + len(self.boxes)}", actor, True))

    def _caps(self, width: int, height: int) -> str:
        return f"video/x-raw,format=I420,width={width},height={height},framerate={self.fps}/1"

    def _source(self, colour: int, width: int, height: int, pad: str) -> str:
        # Every input is live, so the compositor paces on the clock and never waits for a slow box.
        return (
            f"videotestsrc is-live=true pattern=solid-color foreground-color={colour:#010x} "
            f"! {self._caps(width, height)} ! scene.{pad} "
        )

    def size(self, actor: Actor, lamp: bool) -> tuple[int, int]:
        w, h = actor.width * self.height, actor.height * self.height
        return (_even(w * 0.12), _even(h * 0.35)) if lamp else (_even(w), _even(h))

    def place(self, actor: Actor, lamp: bool, seconds: float) -> tuple[int, int]:
        """Top-left corner at a stream time: a wrap-around crossing, entering just outside one edge."""
        w, h = self.size(actor, False)
        # One loop length for the whole scene, so vehicles sharing a lane and a speed keep their spacing for ever
        # instead of drifting into each other as loops of different lengths would.
        span = self.width + self.margin
        along = (seconds * actor.speed * self.height / span + actor.phase) % 1.0
        x = -self.margin + along * span if actor.rightwards else self.width - along * span
        y = (actor.start + (actor.end - actor.start) * along) * self.height - h
        if lamp:
            lw, _ = self.size(actor, True)
            x += w - lw if actor.rightwards else 0
            y += h * 0.3
        return int(x), int(y)

    def launch(self) -> str:
        w, h = self.width, self.height
        pads = ["sink_0::zorder=0"]
        sources = [self._source(self.scene.backdrop, w, h, "sink_0")]
        if self.scene.road:
            top, bottom, colour = self.scene.road
            y0, y1 = int(top * h), int(bottom * h)
            pads.append(f"sink_1::zorder=1 sink_1::ypos={y0}")
            sources.append(self._source(colour, w, _even(y1 - y0), "sink_1"))
        for pad, actor, lamp in self.boxes:
            x, y = self.place(actor, lamp, 0.0)
            index = pad.removeprefix("sink_")
            pads.append(f"{pad}::zorder={index} {pad}::xpos={x} {pad}::ypos={y}")
            colour = actor.lamp if lamp and actor.lamp is not None else actor.colour
            sources.append(self._source(colour, *self.size(actor, lamp), pad))
        if self.scene.noise:
            noise = f"sink_{len(sources)}"
            # Made at a quarter of the size and scaled up: grain rather than pixel dust, at a seventh of the cost.
            pads.append(f"{noise}::zorder={len(sources)} {noise}::alpha={self.scene.noise}")
            pads.append(f"{noise}::width={w} {noise}::height={h}")
            sources.append(
                f"videotestsrc is-live=true pattern=snow ! {self._caps(_even(w / 4), _even(h / 4))} ! scene.{noise} "
            )
        return (
            f"( compositor name=scene background=black {' '.join(pads)} ! {self._caps(w, h)} "
            f"! x264enc tune=zerolatency speed-preset=ultrafast bitrate={self.kbps} key-int-max={self.fps * 2} "
            f"! video/x-h264,profile=baseline ! rtph264pay name=pay0 pt=96 config-interval=1 "
            f"{''.join(sources)})"
        )

    def configure(self, _factory: GstRtspServer.RTSPMediaFactory, media: GstRtspServer.RTSPMedia) -> None:
        """Hook a new media's compositor so its actors move on every frame it composes.

        Moving on the compositor's own "samples-selected" (once per output frame, before it blends) ties motion
        to the stream's timestamps rather than to a timer: smooth at any fps, for as long as the media lives.
        """
        compositor = media.get_element().get_by_name("scene")
        boxes = [(compositor.get_static_pad(pad), actor, lamp) for pad, actor, lamp in self.boxes]
        if not boxes:
            return

        def move(_agg: Gst.Element, _segment: Gst.Segment, pts: int, _dts: int, _duration: int, _info: object) -> None:
            if pts == Gst.CLOCK_TIME_NONE:
                return
            seconds = pts / Gst.SECOND
            for pad, actor, lamp in boxes:
                x, y = self.place(actor, lamp, seconds)
                pad.set_property("xpos", x)
                pad.set_property("ypos", y)

        compositor.set_property("emit-signals", True)
        compositor.connect("samples-selected", move)


def clip_bin(path: str) -> Gst.Bin:
    """The file's H.264 as it is, in the file's time: cheap enough for a hundred clients of a 1080p clip."""
    media = Gst.parse_bin_from_description(
        "filesrc name=file ! qtdemux ! h264parse config-interval=-1 ! rtph264pay name=pay0 pt=96", False
    )
    media.get_by_name("file").set_property("location", path)
    return media


class ClipFactory(GstRtspServer.RTSPMediaFactory):  # type: ignore[misc]
    """Unshared, so that every client gets its own playback from the first frame, as a recorded benchmark needs."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path
        self.set_shared(False)

    def do_create_element(self, _url: object) -> Gst.Element:
        return clip_bin(self.path)


def parse_camera(spec: str) -> dict[str, object]:
    """id:scene:WxH@fps:kbps/subWxH@fps:kbps, e.g. cam-1:day:1920x1080@25:4000/640x360@5:300."""
    ident, scene, streams = spec.split(":", 2)
    main, sub = streams.split("/")

    def stream(text: str) -> tuple[int, int, int, int]:
        size, rest = text.split("@")
        fps, kbps = rest.split(":")
        w, h = size.split("x")
        return int(w), int(h), int(fps), int(kbps)

    if scene not in SCENES:
        raise ValueError(f"unknown scene {scene!r} (one of {', '.join(SCENES)})")
    return {"id": ident, "scene": scene, "main": stream(main), "sub": stream(sub)}


def parse_clip(spec: str) -> tuple[str, str]:
    """NAME=PATH; the name becomes a URL path segment, so it is kept to characters that need no escaping."""
    name, _, path = spec.partition("=")
    if not re.fullmatch(r"[A-Za-z0-9._-]+", name):
        raise ValueError(f"bad clip name {name!r}")
    if not os.path.isfile(path):
        raise ValueError(f"clip {name!r}: no such file {path!r}")
    return name, os.path.abspath(path)


class SimulatedCameras:
    def __init__(self, port: int, cameras: list[dict[str, object]], clips: dict[str, str] | None = None) -> None:
        self.server = GstRtspServer.RTSPServer()
        self.server.set_address("127.0.0.1")
        self.server.set_service(str(port))
        self.cameras = {str(c["id"]): c for c in cameras}
        self.dropped: set[str] = set()
        for ident in self.cameras:
            self._mount(ident)
        mounts = self.server.get_mount_points()
        for name, path in (clips or {}).items():
            mounts.add_factory(f"/clip/{name}", ClipFactory(path))

    def _mount(self, ident: str) -> None:
        cam = self.cameras[ident]
        mounts = self.server.get_mount_points()
        for name in ("main", "sub"):
            stage = Stage(str(cam["scene"]), *cam[name])  # type: ignore[misc]
            factory = GstRtspServer.RTSPMediaFactory()
            factory.set_launch(stage.launch())
            factory.set_shared(True)
            factory.connect("media-configure", stage.configure)
            mounts.add_factory(f"/{ident}/{name}", factory)

    def drop(self, ident: str) -> None:
        mounts = self.server.get_mount_points()
        for name in ("main", "sub"):
            mounts.remove_factory(f"/{ident}/{name}")
        self.dropped.add(ident)

        paths = (f"/{ident}/main", f"/{ident}/sub")

        def kick(_server: object, client: GstRtspServer.RTSPClient) -> GstRtspServer.RTSPFilterResult:
            watching: list[bool] = []

            def on_session(_c: object, session: GstRtspServer.RTSPSession) -> GstRtspServer.RTSPFilterResult:
                watching.extend(session.get_media(p)[0] is not None for p in paths)
                return GstRtspServer.RTSPFilterResult.KEEP

            client.session_filter(on_session)
            # Closing the connection is what a camera losing power looks like to its viewers.
            return GstRtspServer.RTSPFilterResult.REMOVE if any(watching) else GstRtspServer.RTSPFilterResult.KEEP

        self.server.client_filter(kick)

    def resume(self, ident: str) -> None:
        if ident in self.dropped:
            self.dropped.discard(ident)
            self._mount(ident)

    def command(self, line: str) -> bool:
        parts = line.split()
        if not parts:
            return True
        if parts[0] == "quit":
            return False
        if parts[0] in ("drop", "resume") and len(parts) == 2 and parts[1] in self.cameras:
            getattr(self, parts[0])(parts[1])
            print(f"ok {parts[0]} {parts[1]}", flush=True)
        else:
            print(f"error unknown command: {line.strip()}", flush=True)
        return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8554)
    parser.add_argument("--camera", action="append", default=[], help="id:scene:WxH@fps:kbps/WxH@fps:kbps")
    parser.add_argument("--clip", action="append", default=[], help="NAME=PATH of an MP4 with H.264, at /clip/NAME")
    args = parser.parse_args()
    try:
        cameras = [parse_camera(c) for c in args.camera]
        clips = dict(parse_clip(c) for c in args.clip)
    except ValueError as exc:
        # The parent reads one line for the handshake; a bad argument must be that line, not a traceback.
        print(f"error {exc}", flush=True)
        sys.exit(2)
    Gst.init(None)
    sim = SimulatedCameras(args.port, cameras, clips)
    loop = GLib.MainLoop()
    if sim.server.attach(None) == 0:
        print(f"error cannot listen on 127.0.0.1:{args.port}", flush=True)
        sys.exit(1)
    # attach() has bound and is listening: a client that connects now waits in the backlog until the loop runs.
    print(f"ready {sim.server.get_bound_port()}", flush=True)

    def read_commands() -> None:
        for line in sys.stdin:
            done = threading.Event()

            def run(text: str = line, done: threading.Event = done) -> bool:
                if not sim.command(text):
                    loop.quit()
                done.set()
                return False

            GLib.idle_add(run)
            done.wait()
        GLib.idle_add(loop.quit)  # stdin closed: the parent is gone

    threading.Thread(target=read_commands, daemon=True).start()
    loop.run()


if __name__ == "__main__":
    main()
