"""A camera that answers RTSP properly and then sends junk: the recorder must survive it and carry on."""

import os
import socket
import threading
from collections.abc import Callable

SDP = (
    "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=hostile\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\n"
    "a=rtpmap:96 H264/90000\r\n"
    "a=fmtp:96 packetization-mode=1;sprop-parameter-sets=Z0LAHtkBQX+XAQAAAwABAAADADKPFi5I,aMuDyyA=\r\n"
    "a=control:track1\r\n"
)


def noise(size: int) -> bytes:
    """Random bytes without "$", the mark of an interleaved frame. Plain random noise now and then held a
    well-formed frame by chance (a "$", channel 0, a length, an RTP header of version 2 and type 96, a slice
    NAL), and the recorder rightly kept what was a valid H.264 access unit: one CI run in many recorded a
    segment of this camera. Without the mark, only the frames made on purpose below are frames."""
    return os.urandom(size).replace(b"$", b"#")


def junk_frames() -> bytes:
    """Interleaved frames holding garbage RTP, a truncated FU-A NAL, lies about lengths, and raw noise."""
    rtp_header = bytes([0x80, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1])
    fu_start_only = rtp_header + bytes([0x7C, 0x85]) + noise(500)  # an IDR start that never ends
    parts = [
        b"$\x00" + len(fu_start_only).to_bytes(2, "big") + fu_start_only,
        b"$\x00\x00\x05" + noise(5),  # too short to be RTP
        noise(3000),  # noise between frames
        b"$\x00\xff\xff" + bytes([0x00]) + noise(99),  # claims 65535 bytes, sends 100; RTP version 0 either way
        b"$\x00" + (20).to_bytes(2, "big") + bytes([0x40]) + noise(19),  # wrong RTP version
    ]
    return b"".join(parts)


class HostileCamera:
    def __init__(self, send: Callable[[], bytes] = junk_frames) -> None:
        self._send = send
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._stop = threading.Event()
        self.connections = 0
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def url(self) -> str:
        return f"rtsp://127.0.0.1:{self.port}/hostile"

    def close(self) -> None:
        self._stop.set()
        self._server.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            buffer = b""
            try:
                while not self._stop.is_set():
                    while b"\r\n\r\n" not in buffer:
                        chunk = conn.recv(4096)
                        if not chunk:
                            return
                        buffer += chunk
                    request, _, buffer = buffer.partition(b"\r\n\r\n")
                    lines = request.decode().split("\r\n")
                    method = lines[0].split()[0]
                    cseq = next(
                        (line.split(":", 1)[1].strip() for line in lines if line.lower().startswith("cseq")), "0"
                    )
                    headers = f"RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\n"
                    if method == "DESCRIBE":
                        conn.sendall(
                            (
                                headers + f"Content-Type: application/sdp\r\nContent-Length: {len(SDP)}\r\n\r\n" + SDP
                            ).encode()
                        )
                    elif method == "SETUP":
                        conn.sendall(
                            (
                                headers + "Session: 12345;timeout=60\r\nTransport: RTP/AVP/TCP;interleaved=0-1\r\n\r\n"
                            ).encode()
                        )
                    elif method == "PLAY":
                        conn.sendall((headers + "Session: 12345\r\n\r\n").encode())
                        for _ in range(200):
                            if self._stop.wait(0.02):
                                return
                            conn.sendall(self._send())
                    else:
                        conn.sendall((headers + "\r\n").encode())
            except OSError:
                return
