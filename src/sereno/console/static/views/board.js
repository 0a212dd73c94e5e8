// The incident board: every open incident of the user's centres (the server scopes the list), in a column per
// status, most urgent first and, within a priority, the longest waiting first. It follows the live feed: an
// `incident` event refetches the list, at most one request in flight and one queued, so a burst of events
// costs two requests and the board always ends on the server's latest state. Colour is never the only cue:
// each card says its priority and the column heading says its status and count.
import { el } from "/static/api.js";

const COLUMNS = [["new", "New"], ["dispatched", "Dispatched"], ["en-route", "En route"], ["on-scene", "On scene"]];
const AGE_TICK_MS = 30_000;
const RETRY_MS = 5_000;

const state = { ctx: null, incidents: new Map(), names: new Map(), lists: {}, counts: {}, status: null, alert: null,
  busy: false, again: false, loaded: false };

function stylesheet() {
  const href = new URL("./board.css", import.meta.url).pathname;
  if (!document.querySelector(`link[href="${href}"]`)) document.head.append(el("link", { rel: "stylesheet", href }));
}

function age(us) {
  const minutes = Math.max(0, Math.floor((Date.now() - us / 1000) / 60_000));
  return minutes < 60 ? `${minutes} min` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

const typeName = (code) => state.names.get(code) ?? code;

function card(i) {
  const where = i.address || `${i.lat.toFixed(4)}, ${i.lon.toFixed(4)}`;
  return el("li", { dataset: { incident: i.id, priority: i.priority } },
    el("a", { href: `#/incident/${encodeURIComponent(i.id)}`, class: `card p${i.priority}` },
      el("span", { class: "line" }, el("span", { class: "prio" }, `P${i.priority}`), el("strong", {}, typeName(i.type_code))),
      el("span", { class: "where" }, where),
      el("span", { class: "meta" }, `${i.id} · ${i.centre} · `, el("span", { class: "age", dataset: { since: i.created_us } }, age(i.created_us)))));
}

function render() {
  const byStatus = new Map(COLUMNS.map(([status]) => [status, []]));
  for (const incident of state.incidents.values()) byStatus.get(incident.status)?.push(incident);
  for (const [status] of COLUMNS) {
    const items = byStatus.get(status).sort((a, b) => a.priority - b.priority || a.created_us - b.created_us);
    state.counts[status].textContent = String(items.length);
    state.lists[status].replaceChildren(...(items.length ? items.map(card) : [el("li", { class: "empty note" }, "None")]));
  }
}

async function reload() {
  if (state.busy) { state.again = true; return; }
  state.busy = true;
  try {
    do {
      state.again = false;
      const list = await state.ctx.api("/api/dispatch/incidents");
      const before = new Set(state.incidents.keys());
      state.incidents = new Map(list.map((i) => [i.id, i]));
      // Said once, politely, for incidents new since the last look, so a screen reader user hears arrivals.
      const arrived = state.loaded ? list.filter((i) => !before.has(i.id)) : [];
      if (arrived.length) {
        state.status.textContent = arrived.map((i) => `New incident ${i.id}: P${i.priority} ${typeName(i.type_code)}`).join("; ");
      }
      state.loaded = true;
      state.alert.textContent = "";
      render();
    } while (state.again);
  } catch (error) {
    state.alert.textContent = `The board could not be updated: ${error.message}. Trying again.`;
    setTimeout(reload, RETRY_MS);
  } finally {
    state.busy = false;
  }
}

export async function mount(root, ctx) {
  stylesheet();
  root.id = "board";
  state.ctx = ctx;
  state.status = el("p", { id: "board-status", role: "status", class: "note" });
  state.alert = el("p", { id: "board-error", role: "alert", class: "bad" });
  const columns = COLUMNS.map(([status, label]) => {
    state.counts[status] = el("span", { class: "count" }, "0");
    state.lists[status] = el("ol", { class: "cards", "aria-labelledby": `board-${status}` });
    return el("section", { class: `column ${status}`, dataset: { status } },
      el("h3", { id: `board-${status}` }, `${label} `, state.counts[status]), state.lists[status]);
  });
  root.append(el("div", { class: "board-head" }, el("h2", {}, "Incidents"), state.status), state.alert,
    el("div", { class: "columns" }, columns));
  // Type names are a nicety; the board still works (with codes) if they do not load.
  const types = await ctx.api("/api/dispatch/types").catch(() => ({ incident_types: [] }));
  state.names = new Map(types.incident_types.map((t) => [t.code, t.name]));
  // Subscribed before the first load, so a change made while it is in flight is not missed.
  ctx.on("incident", () => reload());
  ctx.on("resync", () => reload());
  await reload();
  setInterval(() => {
    for (const span of document.querySelectorAll("#board .age")) span.textContent = age(Number(span.dataset.since));
  }, AGE_TICK_MS);
}

export function show() {
  render(); // ages and order as of now; the list itself is kept current by the live feed
}
