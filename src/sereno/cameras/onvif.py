"""ONVIF, the optional way to find cameras and their stream URLs instead of typing them in.

Two small pieces over plain HTTP and UDP (no SOAP framework): WS-Discovery finds devices on the local
network; a device client reads the device's identity, its media profiles and each profile's RTSP URL,
authenticating with WS-Security UsernameToken digests as ONVIF requires. Answers are parsed with defusedxml,
because a device on the network is not trusted input.
"""

import base64
import hashlib
import os
import socket
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeXml
import httpx

MULTICAST = ("239.255.255.250", 3702)
MAX_ANSWER_BYTES = 1 << 20
NS = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "tds": "http://www.onvif.org/ver10/device/wsdl",
    "trt": "http://www.onvif.org/ver10/media/wsdl",
    "tt": "http://www.onvif.org/ver10/schema",
    "d": "http://schemas.xmlsoap.org/ws/2005/04/discovery",
}


class OnvifError(Exception):
    """The device could not be reached, refused us, or answered something that is not ONVIF."""


@dataclass(frozen=True)
class DiscoveredDevice:
    service_urls: list[str]
    scopes: list[str]


@dataclass(frozen=True)
class DeviceInformation:
    manufacturer: str
    model: str
    firmware: str
    serial: str


@dataclass(frozen=True)
class MediaProfile:
    token: str
    name: str
    encoding: str
    width: int
    height: int
    fps: float
    stream_url: str


def probe_message(message_id: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
        'xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" '
        'xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery" '
        'xmlns:dn="http://www.onvif.org/ver10/network/wsdl">'
        f"<s:Header><a:MessageID>uuid:{message_id}</a:MessageID>"
        "<a:To>urn:schemas-xmlsoap-org:ws:2005:04:discovery</a:To>"
        "<a:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</a:Action></s:Header>"
        "<s:Body><d:Probe><d:Types>dn:NetworkVideoTransmitter</d:Types></d:Probe></s:Body></s:Envelope>"
    ).encode()


def discover(timeout_s: float = 3.0, target: tuple[str, int] = MULTICAST) -> list[DiscoveredDevice]:
    """Sends one WS-Discovery probe and collects the answers that arrive within the timeout."""
    found: dict[tuple[str, ...], DiscoveredDevice] = {}
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP) as sock:
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 2)
        sock.sendto(probe_message(str(uuid.uuid4())), target)
        deadline = time.monotonic() + timeout_s
        while (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            try:
                data, _ = sock.recvfrom(65535)
            except TimeoutError:
                break
            try:
                root = SafeXml.fromstring(data)
            except SafeXml.ParseError:
                continue  # not ours, or garbage: keep listening
            for match in root.iterfind(".//d:ProbeMatch", NS):
                urls = (match.findtext("d:XAddrs", "", NS) or "").split()
                scopes = (match.findtext("d:Scopes", "", NS) or "").split()
                if urls:
                    found[tuple(urls)] = DiscoveredDevice(urls, scopes)
    return list(found.values())


class OnvifClient:
    def __init__(self, device_url: str, username: str | None, password: str | None, timeout_s: float = 5.0) -> None:
        self.device_url = device_url
        self._username = username
        self._password = password or ""
        self._timeout = timeout_s

    def device_information(self) -> DeviceInformation:
        body = self._call(self.device_url, "<tds:GetDeviceInformation/>")
        answer = _find(body, "tds:GetDeviceInformationResponse")
        return DeviceInformation(
            manufacturer=answer.findtext("tds:Manufacturer", "", NS),
            model=answer.findtext("tds:Model", "", NS),
            firmware=answer.findtext("tds:FirmwareVersion", "", NS),
            serial=answer.findtext("tds:SerialNumber", "", NS),
        )

    def media_url(self) -> str:
        body = self._call(
            self.device_url, "<tds:GetCapabilities><tds:Category>Media</tds:Category></tds:GetCapabilities>"
        )
        address = body.findtext(".//tt:Media/tt:XAddr", "", NS)
        if not address:
            raise OnvifError("the device offers no media service")
        return address

    def profiles(self) -> list[MediaProfile]:
        media = self.media_url()
        body = self._call(media, "<trt:GetProfiles/>")
        profiles = []
        for node in body.iterfind(".//trt:Profiles", NS):
            token = node.get("token", "")
            encoder = node.find("tt:VideoEncoderConfiguration", NS)
            if not token or encoder is None:
                continue
            uri_body = self._call(
                media,
                "<trt:GetStreamUri><trt:StreamSetup><tt:Stream>RTP-Unicast</tt:Stream><tt:Transport>"
                f"<tt:Protocol>RTSP</tt:Protocol></tt:Transport></trt:StreamSetup><trt:ProfileToken>{_escape(token)}"
                "</trt:ProfileToken></trt:GetStreamUri>",
            )
            profiles.append(
                MediaProfile(
                    token=token,
                    name=node.findtext("tt:Name", "", NS),
                    encoding=encoder.findtext("tt:Encoding", "", NS),
                    width=_int(encoder.findtext("tt:Resolution/tt:Width", "0", NS)),
                    height=_int(encoder.findtext("tt:Resolution/tt:Height", "0", NS)),
                    fps=float(_int(encoder.findtext("tt:RateControl/tt:FrameRateLimit", "0", NS))),
                    stream_url=uri_body.findtext(".//tt:Uri", "", NS),
                )
            )
        return profiles

    def _call(self, url: str, body: str) -> Element:
        envelope = (
            '<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
            f'xmlns:tds="{NS["tds"]}" xmlns:trt="{NS["trt"]}" xmlns:tt="{NS["tt"]}">'
            f"<s:Header>{self._security()}</s:Header><s:Body>{body}</s:Body></s:Envelope>"
        )
        try:
            response = httpx.post(
                url,
                content=envelope.encode(),
                headers={"Content-Type": "application/soap+xml; charset=utf-8"},
                timeout=self._timeout,
            )
        except httpx.HTTPError as exc:
            raise OnvifError(f"cannot reach {url}: {exc}") from exc
        if len(response.content) > MAX_ANSWER_BYTES:
            raise OnvifError("the device's answer is too large")
        try:
            root = SafeXml.fromstring(response.content)
        except SafeXml.ParseError as exc:
            raise OnvifError(f"the device did not answer in XML ({response.status_code})") from exc
        fault = root.find(".//s:Fault", NS)
        if fault is not None or response.status_code >= 400:
            reason = fault.findtext(".//s:Text", "", NS) if fault is not None else ""
            raise OnvifError(f"the device refused: {reason or response.status_code}")
        found = root.find("s:Body", NS)
        if found is None:
            raise OnvifError("the device's answer has no SOAP body")
        return found

    def _security(self) -> str:
        """WS-Security UsernameToken with PasswordDigest = Base64(SHA-1(nonce + created + password))."""
        if not self._username:
            return ""
        nonce = os.urandom(16)
        created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        digest = base64.b64encode(hashlib.sha1(nonce + created.encode() + self._password.encode()).digest()).decode()  # noqa: S324 - the ONVIF standard
        wsse = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
        wsu = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
        digest_type = (
            "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest"
        )
        return (
            f'<wsse:Security xmlns:wsse="{wsse}" xmlns:wsu="{wsu}"><wsse:UsernameToken>'
            f"<wsse:Username>{_escape(self._username)}</wsse:Username>"
            f'<wsse:Password Type="{digest_type}">{digest}</wsse:Password>'
            f"<wsse:Nonce>{base64.b64encode(nonce).decode()}</wsse:Nonce><wsu:Created>{created}</wsu:Created>"
            "</wsse:UsernameToken></wsse:Security>"
        )


def _find(body: Element, path: str) -> Element:
    found = body.find(path, NS)
    if found is None:
        raise OnvifError(f"the device's answer lacks {path}")
    return found


def _int(text: str | None) -> int:
    try:
        return int(text or 0)
    except ValueError:
        return 0


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
