"""Simulated cameras over real RTSP: synthetic H.264 scenes served by GStreamer's rtsp-server.

Runs under Debian's /usr/bin/python3 (where PyGObject and GstRtspServer live), never inside the venv, so it
imports only the standard library and `gi`. Sereno starts it as a child process (`sim/cameras.py`).

Each camera gets two mounts, /<id>/main and /<id>/sub, with its own resolution, frame rate and bitrate.
Control is line-based on stdin: `drop <id>` disconnects the camera's clients and refuses new ones (a dead
camera), `resume <id>` brings it back, `quit` stops. The server prints `ready <port>` once it listens.
"""

import argparse
import sys
import threading

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

# Scenes that move: shapes bouncing, a moving zone plate; night is dark, low contrast, noisy.
_SOURCE = "videotestsrc is-live=true "
SCENES = {
    "day": _SOURCE + "pattern=ball motion=sweep background-color=0xff607080 foreground-color=0xffe0e0e0",
    "night": _SOURCE + "pattern=ball background-color=0xff101418 foreground-color=0xff505a60",
    "traffic": _SOURCE + "pattern=zone-plate kx2=20 ky2=20 kt=1",
}


def pipeline(scene: str, width: int, height: int, fps: int, kbps: int) -> str:
    return (
        f"( {SCENES[scene]} ! video/x-raw,width={width},height={height},framerate={fps}/1 "
        f"! x264enc tune=zerolatency speed-preset=ultrafast bitrate={kbps} key-int-max={fps * 2} "
        f"! video/x-h264,profile=baseline ! rtph264pay name=pay0 pt=96 config-interval=1 )"
    )


def parse_camera(spec: str) -> dict[str, object]:
    """id:scene:WxH@fps:kbps/subWxH@fps:kbps, e.g. cam-1:day:1920x1080@25:4000/640x360@5:300."""
    ident, scene, streams = spec.split(":", 2)
    main, sub = streams.split("/")

    def stream(text: str) -> tuple[int, int, int, int]:
        size, rest = text.split("@")
        fps, kbps = rest.split(":")
        w, h = size.split("x")
        return int(w), int(h), int(fps), int(kbps)

    return {"id": ident, "scene": scene, "main": stream(main), "sub": stream(sub)}


class SimulatedCameras:
    def __init__(self, port: int, cameras: list[dict[str, object]]) -> None:
        self.server = GstRtspServer.RTSPServer()
        self.server.set_address("127.0.0.1")
        self.server.set_service(str(port))
        self.cameras = {str(c["id"]): c for c in cameras}
        self.dropped: set[str] = set()
        for ident in self.cameras:
            self._mount(ident)

    def _mount(self, ident: str) -> None:
        cam = self.cameras[ident]
        mounts = self.server.get_mount_points()
        for name in ("main", "sub"):
            factory = GstRtspServer.RTSPMediaFactory()
            factory.set_launch(pipeline(str(cam["scene"]), *cam[name]))  # type: ignore[misc]
            factory.set_shared(True)
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
    args = parser.parse_args()
    Gst.init(None)
    sim = SimulatedCameras(args.port, [parse_camera(c) for c in args.camera])
    loop = GLib.MainLoop()
    if sim.server.attach(None) == 0:
        print(f"error cannot listen on 127.0.0.1:{args.port}", flush=True)
        sys.exit(1)
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
