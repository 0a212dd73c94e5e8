// Playback of the anonymised recording in the browser, through Media Source Extensions: the server's HLS
// playlist (fMP4, one initialisation section per segment) is read here and its segments appended to a
// SourceBuffer, because not every browser plays HLS itself and the console must work offline with no player
// library. The video's time is clock time: second 0 is the start of the window asked for, each segment is
// placed at its own program date-time, so a gap in the recording stays a gap (the player steps over it) and
// the position always reads as the moment it shows.

const AHEAD_S = 20; // keep this much appended ahead of the playhead
const STALL_CHECK_MS = 1000;
// A playhead this close to the end of what is buffered has run out of pictures: the last picture of a range
// shows a frame's duration before its end (0.2 s in the 5 fps privacy segments), so this is well over one.
const END_OF_RANGE_S = 1.0;

export function parsePlaylist(text, base) {
  const segments = [];
  let map = null, at = null, duration = null;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line.startsWith("#EXT-X-MAP:")) map = new URL(/URI="([^"]+)"/.exec(line)[1], base).href;
    else if (line.startsWith("#EXT-X-PROGRAM-DATE-TIME:")) at = Date.parse(line.slice(25)) * 1000;
    else if (line.startsWith("#EXTINF:")) duration = parseFloat(line.slice(8));
    else if (line && !line.startsWith("#")) {
      segments.push({ init: map, media: new URL(line, base).href, startUs: at, endUs: at + Math.round(duration * 1e6) });
      at = null; duration = null;
    }
  }
  return segments;
}

// "avc1.PPCCLL" from the avcC box of an initialisation section: what MediaSource needs to accept the stream.
export function codecOf(init) {
  const bytes = new Uint8Array(init);
  for (let i = 4; i + 8 < bytes.length; i++) {
    if (bytes[i] === 0x61 && bytes[i + 1] === 0x76 && bytes[i + 2] === 0x63 && bytes[i + 3] === 0x43) { // "avcC"
      const hex = (b) => b.toString(16).padStart(2, "0");
      return `avc1.${hex(bytes[i + 5])}${hex(bytes[i + 6])}${hex(bytes[i + 7])}`;
    }
  }
  throw new Error("the recording is not H.264 in MP4");
}

async function bytes(url) {
  const response = await fetch(url, { credentials: "same-origin" });
  if (!response.ok) throw new Error(`${response.status} ${response.statusText} for a segment`);
  return response.arrayBuffer();
}

export class RecordingPlayer {
  constructor(video, { onError = () => {}, onState = () => {} } = {}) {
    this.video = video;
    this.onError = onError;
    this.onState = onState;
    this.session = 0;
    video.addEventListener("timeupdate", () => this.#feed());
    video.addEventListener("seeking", () => this.#feed());
    video.addEventListener("waiting", () => this.#stepOverGap());
    // "waiting" is not fired at every stall, so a slow check looks for a playhead that stopped moving.
    this.watch = setInterval(() => {
      const t = this.video.currentTime;
      if (this.buffer && !this.video.paused && t === this.lastT && this.video.readyState < 3) this.#stepOverGap();
      this.lastT = t;
    }, STALL_CHECK_MS);
  }

  // Plays [fromUs, toUs) starting at atUs. The playlist request is the audited act of watching.
  // Every await may outlive this session (another moment chosen, the page left: close()), so each is followed
  // by a check before the video is touched: a stale open once gave a closed player a new source.
  async open(playlistUrl, fromUs, toUs, atUs) {
    const session = ++this.session;
    const current = () => session === this.session;
    this.#release();
    this.onState("loading");
    const response = await fetch(playlistUrl, { credentials: "same-origin" });
    if (!response.ok) {
      const body = await response.json().catch(() => null);
      if (!current()) return;
      throw new Error(body?.detail || `${response.status} ${response.statusText}`);
    }
    const segments = parsePlaylist(await response.text(), new URL(playlistUrl, location.href));
    if (!current()) return;
    this.fromUs = fromUs;
    this.segments = segments;
    this.appended = new Set();
    this.queue = Promise.resolve();
    const firstInit = await bytes(segments[0].init);
    if (!current()) return;
    const media = new MediaSource();
    this.media = media;
    this.video.src = URL.createObjectURL(media);
    await new Promise((resolve) => media.addEventListener("sourceopen", resolve, { once: true }));
    if (!current()) return;
    this.buffer = media.addSourceBuffer(`video/mp4; codecs="${codecOf(firstInit)}"`);
    this.buffer.mode = "segments";
    media.duration = (toUs - fromUs) / 1e6;
    await this.seek(atUs);
    if (!current()) return;
    this.onState("ready");
    await this.video.play().catch(() => null); // autoplay may be refused; the controls are there
  }

  // Clock time (µs) of the picture shown.
  // Null while a playlist is being opened: the element's time is 0 then, which is no moment of the recording.
  clockUs() { return this.buffer ? this.fromUs + Math.round(this.video.currentTime * 1e6) : null; }

  // A seek still waiting for its segment when another session opens must not move the new one's playhead.
  async seek(atUs) {
    const session = this.session;
    const index = this.#segmentAt(atUs);
    if (index < 0) return;
    const target = Math.max(atUs, this.segments[index].startUs);
    await this.#append(index);
    if (session !== this.session || !this.buffer) return;
    this.video.currentTime = (target - this.fromUs) / 1e6;
    this.#feed();
  }

  close() { this.session++; this.#release(); }

  destroy() { this.close(); clearInterval(this.watch); }

  #release() {
    if (this.video.src) { URL.revokeObjectURL(this.video.src); this.video.removeAttribute("src"); this.video.load(); }
    this.media = null; this.buffer = null;
  }

  #segmentAt(atUs) { return this.segments.findIndex((s) => s.endUs > atUs); }

  // Appends the segments from the playhead to AHEAD_S beyond it, in order, each after its own init section.
  #feed() {
    if (!this.buffer) return;
    const now = this.clockUs();
    const start = this.#segmentAt(now);
    if (start < 0) return;
    for (let i = start; i < this.segments.length && this.segments[i].startUs < now + AHEAD_S * 1e6; i++) {
      this.#append(i);
    }
  }

  #append(index) {
    if (this.appended.has(index)) return this.queue;
    this.appended.add(index);
    const segment = this.segments[index];
    const session = this.session;
    const fetched = Promise.all([bytes(segment.init), bytes(segment.media)]);
    this.queue = this.queue.then(async () => {
      const [init, media] = await fetched;
      if (session !== this.session || !this.buffer) return;
      this.buffer.timestampOffset = (segment.startUs - this.fromUs) / 1e6;
      await this.#write(init);
      await this.#write(media);
    }).catch((error) => { this.appended.delete(index); this.onError(error); });
    return this.queue;
  }

  #write(data) {
    return new Promise((resolve, reject) => {
      const buffer = this.buffer;
      const done = () => { buffer.removeEventListener("error", failed); resolve(); };
      const failed = () => { buffer.removeEventListener("updateend", done); reject(new Error("the browser refused a segment")); };
      buffer.addEventListener("updateend", done, { once: true });
      buffer.addEventListener("error", failed, { once: true });
      buffer.appendBuffer(data);
    });
  }

  // Stalled. The picture under the playhead may be here already and the browser slow to show it (a loaded
  // machine: wait), or still on its way (wait), or the buffered pictures may have a hole here (go on from the
  // next buffered moment), or the recording has a gap here, the camera being down (go on from the next
  // recorded moment). Taking slowness for a gap made a loaded browser leap ahead a segment every second,
  // to the end of the window.
  #stepOverGap() {
    if (!this.buffer || this.video.paused) return;
    const t = this.video.currentTime;
    const ranges = this.video.buffered;
    for (let i = 0; i < ranges.length; i++) {
      if (ranges.start(i) <= t && t < ranges.end(i) - END_OF_RANGE_S) return;
    }
    for (let i = 0; i < ranges.length; i++) {
      if (ranges.start(i) > t) { this.video.currentTime = ranges.start(i) + 0.001; return; }
    }
    const now = this.clockUs();
    if (this.segments.some((s) => s.startUs <= now && now < s.endUs)) { this.#feed(); return; } // on its way (or asked again)
    const next = this.segments.find((s) => s.startUs > now);
    if (next) this.seek(next.startUs);
  }
}
