"""A stand-in ONVIF camera: answers device, media and discovery requests and checks WS-Security digests,
so the client's authentication is tested against the standard's formula, not against itself."""

import base64
import hashlib
import http.server
import re
import socket
import threading

PASSWORD = "onvif-secret"
PROFILES = [("main_1", "MainStream", 1920, 1080, 25), ("sub_1", "SubStream", 640, 360, 5)]


def _envelope(body: str) -> bytes:
    return (
        '<?xml version="1.0"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
        'xmlns:tds="http://www.onvif.org/ver10/device/wsdl" xmlns:trt="http://www.onvif.org/ver10/media/wsdl" '
        f'xmlns:tt="http://www.onvif.org/ver10/schema"><s:Body>{body}</s:Body></s:Envelope>'
    ).encode()


def _authorised(request: str) -> bool:
    found = [re.search(rf"<wsse:{tag}(?:\s[^>]*)?>([^<]*)<", request) for tag in ("Username", "Password", "Nonce")]
    created = re.search(r"<wsu:Created>([^<]*)<", request)
    if not all(found) or created is None:
        return False
    user, digest, nonce = (m.group(1) for m in found if m is not None)
    raw = base64.b64decode(nonce) + created.group(1).encode() + PASSWORD.encode()
    expected = hashlib.sha1(raw).digest()  # noqa: S324 - the digest ONVIF's WS-Security profile defines
    return user == "admin" and digest == base64.b64encode(expected).decode()


class _Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *_args: object) -> None:
        pass

    def do_POST(self) -> None:
        request = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
        host = self.headers.get("Host", "127.0.0.1")
        if not _authorised(request):
            body = _envelope("<s:Fault><s:Reason><s:Text>Sender not authorized</s:Text></s:Reason></s:Fault>")
            status = 400
        elif "GetDeviceInformation" in request:
            body = _envelope(
                "<tds:GetDeviceInformationResponse><tds:Manufacturer>Acme</tds:Manufacturer>"
                "<tds:Model>Dome 9</tds:Model><tds:FirmwareVersion>2.1</tds:FirmwareVersion>"
                "<tds:SerialNumber>SN-42</tds:SerialNumber><tds:HardwareId>1</tds:HardwareId>"
                "</tds:GetDeviceInformationResponse>"
            )
            status = 200
        elif "GetCapabilities" in request:
            body = _envelope(
                "<tds:GetCapabilitiesResponse><tds:Capabilities><tt:Media>"
                f"<tt:XAddr>http://{host}/onvif/media</tt:XAddr></tt:Media></tds:Capabilities>"
                "</tds:GetCapabilitiesResponse>"
            )
            status = 200
        elif "GetProfiles" in request:
            profiles = "".join(
                f'<trt:Profiles token="{token}"><tt:Name>{name}</tt:Name><tt:VideoEncoderConfiguration>'
                f"<tt:Encoding>H264</tt:Encoding><tt:Resolution><tt:Width>{w}</tt:Width><tt:Height>{h}</tt:Height>"
                f"</tt:Resolution><tt:RateControl><tt:FrameRateLimit>{fps}</tt:FrameRateLimit></tt:RateControl>"
                "</tt:VideoEncoderConfiguration></trt:Profiles>"
                for token, name, w, h, fps in PROFILES
            )
            body, status = _envelope(f"<trt:GetProfilesResponse>{profiles}</trt:GetProfilesResponse>"), 200
        elif "GetStreamUri" in request:
            token = re.search(r"<trt:ProfileToken>([^<]*)<", request)
            uri = f"rtsp://{host.split(':')[0]}:554/{token.group(1) if token else 'x'}"
            body = _envelope(
                f"<trt:GetStreamUriResponse><trt:MediaUri><tt:Uri>{uri}</tt:Uri></trt:MediaUri></trt:GetStreamUriResponse>"
            )
            status = 200
        else:
            body, status = b"not soap at all", 200
        self.send_response(status)
        self.send_header("Content-Type", "application/soap+xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class FakeOnvifCamera:
    def __init__(self) -> None:
        self.http = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        threading.Thread(target=self.http.serve_forever, daemon=True).start()
        threading.Thread(target=self._answer_probes, daemon=True).start()

    @property
    def device_url(self) -> str:
        return f"http://127.0.0.1:{self.http.server_address[1]}/onvif/device_service"

    @property
    def discovery_address(self) -> tuple[str, int]:
        host, port = self.udp.getsockname()
        return str(host), int(port)

    def _answer_probes(self) -> None:
        while True:
            try:
                data, sender = self.udp.recvfrom(65535)
            except OSError:
                return
            if b"Probe" not in data:
                continue
            self.udp.sendto(b"garbage that is not XML", sender)
            match = (
                '<?xml version="1.0"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
                'xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery"><s:Body><d:ProbeMatches><d:ProbeMatch>'
                f"<d:XAddrs>{self.device_url}</d:XAddrs><d:Scopes>onvif://www.onvif.org/name/Dome9</d:Scopes>"
                "</d:ProbeMatch></d:ProbeMatches></s:Body></s:Envelope>"
            )
            self.udp.sendto(match.encode(), sender)

    def close(self) -> None:
        self.http.shutdown()
        self.http.server_close()
        self.udp.close()
