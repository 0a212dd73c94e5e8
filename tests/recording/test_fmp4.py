"""Fragmented MP4 from depacketised RTP, checked by the readers that will play it back: libavformat via PyAV, and
ffprobe. Real x264 clips go through the same RTP packetising as in the depacketiser tests."""

import shutil
import struct
import subprocess
from pathlib import Path

import av
import pytest

from sereno.ingest.h264 import AccessUnit, H264Depacketizer
from sereno.recording.fmp4 import DELTA_FLAGS, KEY_FLAGS, Sample, fragment, init_segment
from tests.ingest.test_h264 import FRAME, Clip, encode_clip, packetize

RECORDED = ["baseline", "high-cropped-bframes", "high-slices", "high444-scaling-matrix", "interlaced", "high10"]


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Clip]:
    if shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None:
        pytest.skip("ffmpeg/ffprobe are not installed: these tests encode and check real H.264 with them")
    directory = tmp_path_factory.mktemp("fmp4")
    return {name: encode_clip(directory, name) for name in RECORDED}


def receive(clip: Clip) -> tuple[list[AccessUnit], H264Depacketizer]:
    """Through RTSP interleaved framing, as the recorder receives it: the NAL pieces are memoryviews."""
    data = b"".join(b"$\x00" + struct.pack(">H", len(p)) + p for p in packetize(clip.units))
    d = H264Depacketizer()
    units: list[AccessUnit] = []
    assert d.push_interleaved(data, 0, 0, units)[0] == len(data)
    return units, d


def record(clip: Clip, path: Path) -> list[AccessUnit]:
    """init + one fragment per GOP, the last sample repeating the previous duration."""
    units, d = receive(clip)
    assert d.sps is not None and d.pps is not None
    pieces: list[bytes | memoryview] = [init_segment(d.sps, d.pps)]
    gop: list[Sample] = []
    decode_time = sequence = 0
    for unit in units:
        if unit.keyframe and gop:
            sequence += 1
            pieces += fragment(sequence, decode_time, gop)
            decode_time += sum(sample.duration for sample in gop)
            gop = []
        gop.append(Sample(FRAME, unit.nals, unit.keyframe))
    pieces += fragment(sequence + 1, decode_time, gop)
    path.write_bytes(b"".join(pieces))
    return units


def length_prefixed(unit: list[bytes]) -> bytes:
    return b"".join(struct.pack(">I", len(nal)) + nal for nal in unit)


@pytest.mark.parametrize("name", RECORDED)
def test_every_frame_decodes_with_its_bytes_intact(clips: dict[str, Clip], name: str, tmp_path: Path) -> None:
    clip = clips[name]
    path = tmp_path / "out.mp4"
    units = record(clip, path)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert (stream.codec_context.width, stream.codec_context.height) == (clip.width, clip.height)
        packets = [packet for packet in container.demux(stream) if packet.size]
        assert [bytes(packet) for packet in packets] == [length_prefixed(unit) for unit in clip.units]
        assert [packet.is_keyframe for packet in packets] == [unit.keyframe for unit in units]
        assert [packet.dts for packet in packets] == [n * FRAME for n in range(len(units))]
        assert stream.time_base is not None and stream.time_base.denominator == 90_000
        frames = [frame for packet in packets for frame in stream.codec_context.decode(packet)]
        frames += stream.codec_context.decode(None)
    assert len(frames) == len(clip.units) == 75
    assert {(frame.width, frame.height) for frame in frames} == {(clip.width, clip.height)}


@pytest.mark.parametrize("name", RECORDED)
def test_ffprobe_reads_it_without_errors(clips: dict[str, Clip], name: str, tmp_path: Path) -> None:
    path = tmp_path / "out.mp4"
    record(clips[name], path)
    entries = "stream=width,height,nb_read_frames"
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-count_frames", "-show_entries", entries, "-of", "csv=p=0", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert probe.stderr == ""
    assert probe.stdout.split() == [f"{clips[name].width},{clips[name].height},75"]


def boxes(data: bytes | memoryview, start: int = 0, end: int | None = None) -> list[tuple[bytes, int, int]]:
    """(type, start, end) of each box between start and end; sizes must tile the range exactly."""
    end = len(data) if end is None else end
    found = []
    while start < end:
        size, kind = struct.unpack_from(">I4s", data, start)
        assert size >= 8 and start + size <= end, f"box {kind!r} at {start} overruns its parent"
        found.append((kind, start, start + size))
        start += size
    assert start == end
    return found


def child(data: bytes, parent: tuple[bytes, int, int], path: list[bytes], skip: int = 0) -> tuple[bytes, int, int]:
    """The box at `path` below parent (whose payload starts `skip` bytes after its header)."""
    box = parent
    for kind in path:
        inner = boxes(data, box[1] + 8 + skip, box[2])
        box, skip = next(b for b in inner if b[0] == kind), 0
    return box


def test_box_layout(clips: dict[str, Clip]) -> None:
    units, d = receive(clips["high444-scaling-matrix"])
    assert d.sps is not None and d.pps is not None
    init = init_segment(d.sps, d.pps, timescale=1000)
    assert [b[0] for b in boxes(init)] == [b"ftyp", b"moov"]
    moov = boxes(init)[1]
    stbl = child(init, moov, [b"trak", b"mdia", b"minf", b"stbl"])
    assert [b[0] for b in boxes(init, stbl[1] + 8, stbl[2])] == [b"stsd", b"stts", b"stsc", b"stsz", b"stco"]
    avc1 = child(init, child(init, stbl, [b"stsd"]), [b"avc1"], skip=8)
    avcc = child(init, avc1, [b"avcC"], skip=78)
    body = init[avcc[1] + 8 : avcc[2]]
    assert body[:6] == bytes((1, *d.sps[1:4], 0xFF, 0xE1))
    assert body[-4:] == bytes((0xFC | 3, 0xF8, 0xF8, 0))  # High 4:4:4: chroma format and bit depths follow
    mdhd = child(init, moov, [b"trak", b"mdia", b"mdhd"])
    assert struct.unpack_from(">I", init, mdhd[1] + 20)[0] == 1000
    tkhd = child(init, moov, [b"trak", b"tkhd"])
    assert struct.unpack_from(">II", init, tkhd[2] - 8) == (641 << 16, 361 << 16)

    samples = [Sample(40 + n, unit.nals, unit.keyframe) for n, unit in enumerate(units[:3])]
    data = b"".join(fragment(7, 1 << 40, samples))
    moof, mdat = boxes(data)
    assert (moof[0], mdat[0]) == (b"moof", b"mdat")
    assert struct.unpack_from(">I", data, child(data, moof, [b"mfhd"])[1] + 12)[0] == 7
    assert struct.unpack_from(">Q", data, child(data, moof, [b"traf", b"tfdt"])[1] + 12)[0] == 1 << 40
    trun = child(data, moof, [b"traf", b"trun"])
    count, offset = struct.unpack_from(">Ii", data, trun[1] + 12)
    assert (count, offset) == (3, mdat[1] + 8)
    entries = struct.unpack_from(">9I", data, trun[1] + 20)
    sizes = [len(length_prefixed(unit.nal_bytes())) for unit in units[:3]]
    assert entries == (40, sizes[0], KEY_FLAGS, 41, sizes[1], DELTA_FLAGS, 42, sizes[2], DELTA_FLAGS)
    assert data[offset:] == b"".join(length_prefixed(unit.nal_bytes()) for unit in units[:3])


def test_empty_fragment_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one sample"):
        fragment(1, 0, [])


def test_fragment_pieces_reference_the_nal_bytes() -> None:
    nal = memoryview(b"\x65" + bytes(5000))
    pieces = fragment(1, 0, [Sample(FRAME, [[nal[:1], nal[1:]]], True)])
    assert any(piece.obj is nal.obj for piece in pieces if isinstance(piece, memoryview))
    assert b"".join(pieces).endswith(struct.pack(">I", 5001) + bytes(nal))
