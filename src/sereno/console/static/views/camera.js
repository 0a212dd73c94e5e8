// One camera (`#/camera/<id>`, opened from a tile of the wall or a camera on the map): its live anonymised
// picture, its playback timeline, and its recent alerts. The timeline bar shows when there is anonymised
// recording (green) and when alerts were raised (marks in the severity's colour); choosing a moment on it, or
// "Play" on an alert, plays the recording from there. Everything shown is anonymised, and each live view and
// each playback is audited by the server; the timeline itself says only when, never what.
import { el, dateTime, time } from "/static/api.js";
import { RecordingPlayer } from "/static/player.js";

const WINDOWS = [[15, "Last 15 minutes"], [60, "Last hour"], [360, "Last 6 hours"], [1440, "Last 24 hours"]];
const ALERTS_SHOWN = 50;
const BEFORE_ALERT_S = 10; // an alert's playback starts a little before it, to show what led to it
const TIMELINE_REFRESH_MS = 15000;
const STEP_S = 1; // a range input snaps to its step: a moment chosen by pointer lands on the second

const state = { ctx: null, p: null, camera: null, cameras: new Map(), minutes: 60, window: null, alerts: [],
  player: null, ticket: 0, timer: null, spans: [] };

function stylesheet() {
  const href = new URL("./camera.css", import.meta.url).pathname;
  if (!document.querySelector(`link[href="${href}"]`)) document.head.append(el("link", { rel: "stylesheet", href }));
}

const video = (id, suffix) => `/api/video/${encodeURIComponent(id)}/${suffix}`;
const share = (us) => (us - state.window.from) / (state.window.to - state.window.from);

// ---- timeline ---------------------------------------------------------------------------------------------

// The window, the scrub's range and the moment the scrub points at change together, in one synchronous step:
// a moment chosen while a refresh was on its way was read against the next window's start, 15 s off.
function drawTimeline(spans, shown) {
  const { bar, scrub, legend } = state.p;
  const chosen = state.window ? state.window.from + Number(scrub.value) * 1e6 : null;
  state.window = shown;
  const { from, to } = shown;
  bar.replaceChildren(
    ...spans.map((s) => el("span", { class: "recorded", style: `left:${(share(Math.max(s.start_us, from)) * 100).toFixed(3)}%;`
      + `width:${(Math.max(0.2, (share(Math.min(s.end_us, to)) - share(Math.max(s.start_us, from))) * 100)).toFixed(3)}%` })),
    ...state.alerts.filter((a) => a.first_us >= from && a.first_us <= to).map((a) => el("span", { class: "mark",
      dataset: { severity: a.severity }, title: `${a.severity}: ${a.title} at ${time(a.first_us)}`,
      style: `left:${(share(a.first_us) * 100).toFixed(3)}%` })),
    state.p.head);
  scrub.min = "0";
  scrub.max = String(Math.round((to - from) / 1e6));
  scrub.step = String(STEP_S);
  scrub.dataset.fromUs = String(from);
  if (chosen !== null) scrub.value = String(Math.round((chosen - from) / 1e6)); // the same moment, if still in
  const recorded = spans.reduce((sum, s) => sum + Math.min(s.end_us, to) - Math.max(s.start_us, from), 0);
  const percent = (recorded / (to - from)) * 100;
  legend.textContent = spans.length
    ? `${percent < 1 ? "under 1" : Math.round(percent)}% of this window recorded (anonymised), in ${spans.length} `
      + `span${spans.length === 1 ? "" : "s"}. Choose a moment to play it.`
    : "No anonymised recording in this window.";
  state.p.bar.dataset.spans = String(spans.length);
  state.spans = spans;
}

async function loadTimeline() {
  const ticket = state.ticket;
  const to = Date.now() * 1000;
  const asked = { from: to - state.minutes * 60e6, to };
  const query = `start_us=${asked.from}&end_us=${asked.to}`;
  try {
    const spans = await state.ctx.api(video(state.camera.id, `timeline?${query}`));
    if (ticket === state.ticket) drawTimeline(spans, asked);
  } catch (error) {
    if (ticket === state.ticket) state.p.legend.textContent = `The timeline could not be loaded: ${error.message}.`;
  }
}

function scrubText(value) { return state.window ? dateTime(state.window.from + Number(value) * 1e6) : ""; }

// ---- playback ---------------------------------------------------------------------------------------------

async function playFrom(atUs) {
  if (!state.window) {
    state.p.playbackError.textContent = "The timeline is still loading: try again in a moment.";
    return;
  }
  const { from, to } = state.window;
  const at = Math.min(Math.max(atUs, from), to);
  const recorded = state.spans?.find((s) => s.end_us > at);
  state.p.playbackError.textContent = "";
  if (!recorded) {
    state.p.playbackError.textContent = "No anonymised recording from that moment on in this window.";
    return;
  }
  state.p.scrub.value = String(Math.round((at - from) / 1e6));
  state.p.scrub.setAttribute("aria-valuetext", scrubText(state.p.scrub.value));
  const query = `start_us=${from}&end_us=${to}`;
  try {
    await state.player.open(video(state.camera.id, `playback.m3u8?${query}`), from, to, Math.max(at, recorded.start_us));
  } catch (error) {
    state.p.playbackError.textContent = `Playback failed: ${error.message}.`;
  }
}

function followPlayhead() {
  const at = state.player?.clockUs();
  if (at === null || at === undefined || !state.window) return;
  state.p.clock.textContent = `Showing ${dateTime(at)} UTC`;
  state.p.clock.dataset.clockUs = String(at);
  state.p.head.style.left = `${(Math.min(1, Math.max(0, share(at))) * 100).toFixed(3)}%`;
  state.p.head.hidden = false;
}

// ---- alerts -----------------------------------------------------------------------------------------------

function alertItem(a) {
  return el("li", { class: "alert", dataset: { alert: a.id, severity: a.severity, status: a.status } },
    el("span", { class: "severity" }, a.severity),
    el("span", { class: "what" }, a.title),
    el("time", { datetime: new Date(a.first_us / 1000).toISOString() }, dateTime(a.first_us)),
    el("span", { class: "status" }, a.status),
    el("button", { type: "button", class: "secondary", onclick: () => playFrom(a.first_us - BEFORE_ALERT_S * 1e6),
      "aria-label": `Play the recording from ${BEFORE_ALERT_S} s before: ${a.title}` }, "Play"),
    el("a", { href: `#/alerts/${encodeURIComponent(a.id)}` }, "In the queue"));
}

async function loadAlerts() {
  const ticket = state.ticket;
  if (!state.ctx.me.permissions.includes("alerts:read")) { state.p.alerts.replaceChildren(); return; }
  const alerts = await state.ctx.api(`/api/alerts?camera=${encodeURIComponent(state.camera.id)}&limit=${ALERTS_SHOWN}`)
    .catch(() => []);
  if (ticket !== state.ticket) return;
  state.alerts = alerts;
  state.p.alerts.replaceChildren(...alerts.map(alertItem));
  state.p.noAlerts.hidden = alerts.length > 0;
}

// ---- the page ---------------------------------------------------------------------------------------------

function badge(health) {
  const main = health.find((h) => h.stream === "main");
  const stateName = main ? main.state : "unknown";
  return el("span", { class: `badge ${stateName}`, title: main?.last_error || "" },
    main && stateName === "streaming" ? `recording ${main.fps.toFixed(0)} fps` : `recording ${stateName}`);
}

async function loadHealth() {
  const ticket = state.ticket;
  const health = await state.ctx.api("/api/health/streams").catch(() => []);
  if (ticket === state.ticket) state.p.health.replaceChildren(badge(health.filter((h) => h.camera_id === state.camera.id)));
}

function startLive() {
  const { live, liveBox } = state.p;
  const source = video(state.camera.id, "live.mjpeg");
  live.alt = `Live, anonymised: ${state.camera.name}`;
  live.onerror = () => { // no picture yet, or the stream ended: say so and try again
    liveBox.classList.add("dark");
    const ticket = state.ticket;
    setTimeout(() => { if (ticket === state.ticket && live.isConnected) live.src = `${source}?retry=${Date.now()}`; }, 3000);
  };
  live.onload = () => liveBox.classList.remove("dark");
  live.src = source;
}

export async function mount(root, ctx) {
  stylesheet();
  root.id = "camera";
  state.ctx = ctx;
  const windowSelect = el("select", { id: "camera-window", onchange: () => {
    state.minutes = Number(windowSelect.value); loadTimeline(); } },
  ...WINDOWS.map(([minutes, label]) => el("option", { value: minutes, selected: minutes === state.minutes }, label)));
  const scrub = el("input", { id: "camera-scrub", type: "range", class: "scrub", "aria-describedby": "camera-legend" });
  scrub.addEventListener("input", () => scrub.setAttribute("aria-valuetext", scrubText(scrub.value)));
  scrub.addEventListener("change", () => { if (state.window) playFrom(state.window.from + Number(scrub.value) * 1e6); });
  const playing = el("video", { id: "camera-playback", controls: true, muted: true, playsinline: true,
    "aria-label": "Playback of the anonymised recording" });
  state.p = {
    title: el("h2", { id: "camera-title", tabindex: -1 }), facts: el("p", { class: "note facts" }),
    health: el("span"), live: el("img", { id: "camera-live", width: 640, height: 360 }),
    liveBox: el("figure", { class: "live" }), playing, scrub, windowSelect,
    bar: el("div", { class: "bar", "aria-hidden": "true" }), head: el("span", { class: "head", hidden: true }),
    legend: el("p", { id: "camera-legend", class: "note" }), clock: el("p", { id: "camera-clock", class: "clock", "aria-live": "off" }),
    playbackError: el("p", { class: "bad", role: "alert" }), error: el("p", { class: "bad", role: "alert" }),
    alerts: el("ol", { id: "camera-alerts", class: "alerts" }),
    noAlerts: el("p", { class: "note", hidden: true }, "No alerts from this camera."),
  };
  const p = state.p;
  p.liveBox.append(p.live, el("figcaption", {}, "Live · anonymised · audited"));
  root.append(
    el("div", { class: "head" }, el("a", { href: "#/wall", class: "back" }, "← Camera wall"), p.title, p.health),
    p.facts, p.error,
    el("div", { class: "pictures" }, p.liveBox,
      el("figure", { class: "recorded" }, playing, el("figcaption", {}, p.clock))),
    el("div", { class: "timeline" },
      el("div", { class: "timeline-head" }, el("label", { for: "camera-scrub" }, "Playback timeline"),
        el("label", { for: "camera-window" }, "Window"), windowSelect),
      el("div", { class: "track" }, p.bar, scrub), p.legend, p.playbackError),
    el("h3", {}, "Recent alerts from this camera"), p.noAlerts, p.alerts);
  state.player = new RecordingPlayer(playing, { onError: (e) => { p.playbackError.textContent = `Playback: ${e.message}.`; } });
  playing.addEventListener("timeupdate", followPlayhead);
  ctx.on("alert", (e) => { if (state.camera && e.camera_id === state.camera.id && e.change !== "repeated") loadAlerts().then(loadTimeline); });
  state.cameras = new Map((await ctx.api("/api/cameras").catch(() => [])).map((c) => [c.id, c]));
}

export async function show(root, ctx, [id] = []) {
  hide();
  const ticket = ++state.ticket;
  let camera = state.cameras.get(id);
  if (!camera && id) camera = await ctx.api(`/api/cameras/${encodeURIComponent(id)}`).catch(() => null);
  if (ticket !== state.ticket) return;
  if (!camera) {
    state.camera = null;
    state.p.title.textContent = "Camera not found";
    state.p.error.textContent = id ? `No camera ${id} in your centres.` : "No camera chosen: open one from the wall.";
    return;
  }
  state.camera = camera;
  state.cameras.set(camera.id, camera);
  state.p.error.textContent = "";
  state.p.playbackError.textContent = "";
  state.p.clock.textContent = "Choose a moment on the timeline, or Play on an alert.";
  delete state.p.clock.dataset.clockUs;
  state.p.head.hidden = true;
  root.dataset.camera = camera.id;
  state.p.title.textContent = camera.name;
  state.p.facts.textContent = `${camera.id} · ${camera.kind} · centre ${camera.centre} · purpose: ${camera.purpose}`
    + ` · kept ${camera.retention_days} days`;
  document.title = `Sereno · ${camera.name}`;
  startLive();
  await Promise.all([loadAlerts(), loadHealth()]);
  await loadTimeline();
  state.timer = setInterval(() => { loadTimeline(); loadHealth(); }, TIMELINE_REFRESH_MS);
  state.p.title.focus();
}

// Leaving the page stops the live stream and the playback: a hidden view must not keep watching.
export function hide() {
  state.ticket++;
  clearInterval(state.timer);
  if (state.p) { state.p.live.onerror = null; state.p.live.removeAttribute("src"); }
  state.player?.close();
}
