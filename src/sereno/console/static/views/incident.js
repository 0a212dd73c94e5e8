// One incident: what it is, where and since when; its timeline (append-only, oldest first, so it reads as a
// story); notes; the lifecycle buttons for those who may dispatch; the units the recommender ranks, each with
// its reason in words and a one-click Dispatch; and the units on it now. The server decides everything (who
// sees the incident, whether a unit is still free); this page shows its answers, refusals included, in words.
// Live: an `incident` event for this incident, or a `unit` event in its centre, refreshes the page (at most
// twice a second, so a stream of AVL positions cannot flood the server).
import { el, dateTime, time } from "/static/api.js";

const STATUSES = ["new", "dispatched", "en-route", "on-scene", "closed"];
const LABELS = { "en-route": "Mark en route", "on-scene": "Mark on scene", closed: "Close incident" };
const THROTTLE_MS = 500;

const state = { ctx: null, root: null, id: null, incident: null, names: new Map(), p: null, ticket: 0, timer: null,
  mayDispatch: false, mayNote: false };

function stylesheet() {
  const href = new URL("./incident.css", import.meta.url).pathname;
  if (!document.querySelector(`link[href="${href}"]`)) document.head.append(el("link", { rel: "stylesheet", href }));
}

const path = (suffix = "") => `/api/dispatch/incidents/${encodeURIComponent(state.id)}${suffix}`;
const typeName = (code) => state.names.get(code) ?? code;
const words = (s) => s.replaceAll("-", " ");
const distance = (m) => (m < 1000 ? `${Math.round(m)} m` : `${(m / 1000).toFixed(1)} km`);
const eta = (s) => (s < 90 ? `${Math.round(s)} s` : `${Math.round(s / 60)} min`);

function say(message, { error = false } = {}) {
  state.p.alert.textContent = error ? message : "";
  if (!error) state.p.status.textContent = message;
}

// Re-rendering a list must not throw the keyboard user's focus back to the top of the page: the element with
// the same data-key gets it back.
function keepFocus(container, draw) {
  const key = container.contains(document.activeElement) ? document.activeElement.dataset.key : undefined;
  draw();
  if (key) container.querySelector(`[data-key="${CSS.escape(key)}"]`)?.focus();
}

// ---- what is shown --------------------------------------------------------------------------------------

function details(i) {
  const rows = [
    ["Type", `${typeName(i.type_code)} (${i.type_code})`], ["Priority", `P${i.priority}`], ["Status", words(i.status)],
    ["Centre", i.centre], ["Address", i.address || "–"], ["Position", `${i.lat.toFixed(5)}, ${i.lon.toFixed(5)}`],
    ["Agencies", i.agencies.join(", ")], ["Call answered", dateTime(i.answered_us)], ["Opened", dateTime(i.created_us)],
    ["First dispatch", dateTime(i.first_dispatch_us) || "–"], ["First en route", dateTime(i.first_en_route_us) || "–"],
    ["First on scene", dateTime(i.first_on_scene_us) || "–"], ["Closed", dateTime(i.closed_us) || "–"],
  ];
  state.p.details.replaceChildren(...rows.flatMap(([k, v]) => [el("dt", {}, k), el("dd", { dataset: { field: k } }, v)]));
}

function describe({ kind, details: d }) {
  switch (kind) {
    case "created": return `Opened as ${typeName(d.type)}, P${d.priority}, centre ${d.centre}`;
    case "call": return `${d.duplicate ? "Duplicate call merged" : "Call"} ${d.call}${d.text ? `: “${d.text}”` : ""}`;
    case "dispatch": return `${d.unit} (${d.agency}) dispatched`;
    case "agency-added": return `Agency added: ${d.agency}`;
    case "unit-status": return `${d.unit} reports ${words(d.status)}`;
    case "status": return `Status ${words(d.from)} → ${words(d.to)}`;
    case "note": return `Note: ${d.text}`;
    default: return `${kind}: ${JSON.stringify(d)}`;
  }
}

function timeline(entries) {
  state.p.timeline.replaceChildren(...entries.map((e) => el("li", { class: `entry ${e.kind}`, dataset: { kind: e.kind } },
    el("time", { datetime: new Date(e.ts_us / 1000).toISOString() }, time(e.ts_us)),
    el("span", { class: "text" }, describe(e)), el("span", { class: "actor" }, e.actor))));
}

function lifecycle(i) {
  const { actions } = state.p;
  if (!state.mayDispatch) return;
  const later = STATUSES.slice(STATUSES.indexOf(i.status) + 1).filter((s) => LABELS[s]);
  keepFocus(actions, () => actions.replaceChildren(...later.map((s) => el("button", {
    type: "button", class: s === "closed" ? "secondary danger" : "secondary", dataset: { key: `status-${s}` },
    onclick: (event) => setStatus(s, event.currentTarget) }, LABELS[s])),
  ...(later.length ? [] : [el("p", { class: "note" }, "Closed: nothing more to do here.")])));
}

function recommendations(picks, error) {
  const { picks: body, picksNote } = state.p;
  picksNote.textContent = error ? `No recommendation: ${error}` : picks.length ? "" : "No available unit has what this incident needs.";
  keepFocus(body, () => body.replaceChildren(...picks.map((r) => el("tr", { dataset: { callsign: r.callsign } },
    el("td", {}, words(r.capability)), el("th", { scope: "row" }, r.callsign), el("td", {}, r.agency),
    el("td", { class: "num" }, distance(r.distance_m)), el("td", { class: "num" }, eta(r.eta_s)),
    el("td", { class: "reason" }, r.reason),
    state.mayDispatch ? el("td", {}, el("button", { type: "button", "aria-label": `Dispatch ${r.callsign}`,
      dataset: { key: `send-${r.callsign}` }, onclick: (event) => send(r.callsign, event.currentTarget) }, "Dispatch")) : null))));
}

function assigned(units) {
  state.p.units.replaceChildren(...(units.length
    ? units.map((u) => el("li", { dataset: { callsign: u.callsign } }, el("strong", {}, u.callsign),
      ` ${u.agency} · ${words(u.status)} · ${u.capabilities.map(words).join(", ")}`))
    : [el("li", { class: "note" }, "None yet.")]));
}

// ---- loading --------------------------------------------------------------------------------------------

async function load() {
  const ticket = ++state.ticket; // only the newest answer draws: an older one may finish later
  const { ctx } = state;
  let incident;
  try {
    incident = await ctx.api(path());
  } catch (error) {
    if (ticket !== state.ticket) return;
    state.incident = null;
    state.p.body.hidden = true;
    state.p.title.textContent = error.response?.status === 404 ? "Incident not found" : "Incident";
    say(error.response?.status === 404
      ? `Not found: ${error.message}. It may have been mistyped, or belong to a centre you do not hold.`
      : `The incident could not be loaded: ${error.message}`, { error: true });
    return;
  }
  const open = incident.status !== "closed";
  const [entries, units, picks] = await Promise.all([
    ctx.api(path("/timeline")).catch(() => null),
    ctx.api("/api/dispatch/units").catch(() => null),
    open ? ctx.api(path("/recommendation")).catch((error) => error) : Promise.resolve([]),
  ]);
  if (ticket !== state.ticket) return;
  state.incident = incident;
  state.p.body.hidden = false;
  state.p.title.textContent = `${typeName(incident.type_code)} · P${incident.priority} · ${words(incident.status)}`;
  state.p.title.className = `p${incident.priority}`;
  details(incident);
  lifecycle(incident);
  if (entries) timeline(entries);
  if (units) assigned(units.filter((u) => u.incident_id === incident.id));
  state.p.recommend.hidden = !open;
  if (open) recommendations(picks instanceof Error ? [] : picks, picks instanceof Error ? picks.message : null);
}

function refreshSoon() {
  if (state.timer || state.root.hidden || !state.id) return;
  state.timer = setTimeout(() => { state.timer = null; load(); }, THROTTLE_MS);
}

// ---- actions --------------------------------------------------------------------------------------------

async function send(callsign, button) {
  button.disabled = true; // one click, one request: a second click cannot send the unit twice
  button.textContent = "Sending…";
  try {
    await state.ctx.post(path("/dispatch"), { callsign });
    say(`${callsign} dispatched.`);
    await load();
    state.p.unitsTitle.focus(); // the button is gone (the unit is no longer free): land on where it went
  } catch (error) {
    say(`${callsign} was not dispatched: ${error.message}.`, { error: true });
    button.disabled = false;
    button.textContent = "Dispatch";
    refreshSoon(); // a unit that is not free any more leaves the list
  }
}

async function setStatus(status, button) {
  // Closing sends every unit home and cannot be undone: it takes a second, deliberate click.
  if (status === "closed" && button.dataset.confirm !== "yes") {
    button.dataset.confirm = "yes";
    button.textContent = "Confirm: close incident";
    return;
  }
  button.disabled = true;
  try {
    await state.ctx.post(path("/status"), { status });
    say(`Status set to ${words(status)}.`);
    await load();
  } catch (error) {
    say(`The status was not changed: ${error.message}.`, { error: true });
    button.disabled = false;
  }
}

async function addNote(form) {
  const text = form.text.value.trim();
  if (!text) { say("Write the note first.", { error: true }); form.text.focus(); return; }
  const button = form.querySelector("button");
  button.disabled = true;
  try {
    await state.ctx.api(path("/notes"), { method: "POST", body: JSON.stringify({ text }) });
    form.reset();
    say("Note added.");
    await load();
  } catch (error) {
    say(`The note was not added: ${error.message}.`, { error: true });
  } finally {
    button.disabled = false;
  }
}

// ---- the page -------------------------------------------------------------------------------------------

function notesForm() {
  const text = el("textarea", { id: "incident-note", name: "text", rows: 2, required: true, "aria-describedby": "note-hint" });
  const form = el("form", { class: "notes", "aria-labelledby": "incident-notes-title" },
    el("h3", { id: "incident-notes-title" }, "Add a note"),
    el("label", { class: "visually-hidden", for: "incident-note" }, "Note"), text,
    el("p", { id: "note-hint", class: "note hint" }, "Ctrl+Enter adds the note."),
    el("button", { type: "submit" }, "Add note"));
  text.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); form.requestSubmit(); }
  });
  form.addEventListener("submit", (event) => { event.preventDefault(); addNote(form); });
  return form;
}

export async function mount(root, ctx) {
  stylesheet();
  root.id = "incident";
  state.ctx = ctx;
  state.root = root;
  state.mayDispatch = ctx.me.permissions.includes("dispatch");
  state.mayNote = ctx.me.permissions.includes("calls:take");
  const p = {
    title: el("h2", { id: "incident-title", tabindex: -1 }, "Incident"),
    alert: el("p", { id: "incident-error", role: "alert", class: "bad" }),
    status: el("p", { id: "incident-status", role: "status", class: "ok" }),
    details: el("dl", { class: "facts" }),
    actions: el("div", { class: "actions", id: "incident-actions" }),
    picks: el("tbody"),
    picksNote: el("p", { class: "note", id: "incident-picks-note" }),
    units: el("ul", { class: "assigned", id: "incident-units" }),
    unitsTitle: el("h3", { id: "incident-units-title", tabindex: -1 }, "Units on it now"),
    timeline: el("ol", { class: "timeline", id: "incident-timeline", "aria-labelledby": "incident-timeline-title" }),
  };
  p.recommend = el("section", { class: "recommend", "aria-labelledby": "incident-picks-title" },
    el("h3", { id: "incident-picks-title" }, "Recommended units"), p.picksNote,
    el("div", { class: "scroll" }, el("table", { id: "incident-picks" },
      el("thead", {}, el("tr", {}, ["Need", "Unit", "Agency", "Distance", "ETA", "Why"].map((h) => el("th", { scope: "col" }, h)),
        state.mayDispatch ? el("th", { scope: "col" }, el("span", { class: "visually-hidden" }, "Action")) : null)),
      p.picks)));
  p.body = el("div", { class: "incident-layout", hidden: true },
    el("div", { class: "main-col" },
      el("section", { "aria-labelledby": "incident-facts-title" },
        el("h3", { id: "incident-facts-title", class: "visually-hidden" }, "Details"), p.details),
      state.mayDispatch ? el("section", { "aria-label": "Status" }, p.actions) : null,
      p.recommend,
      el("section", { "aria-labelledby": "incident-units-title" }, p.unitsTitle, p.units)),
    el("div", { class: "side-col" },
      el("section", { "aria-labelledby": "incident-timeline-title" },
        el("h3", { id: "incident-timeline-title" }, "Timeline (UTC, oldest first)"), p.timeline),
      state.mayNote ? notesForm() : null));
  state.p = p;
  root.append(el("a", { href: "#/board", class: "back" }, "← Incident board"), p.title, p.alert, p.status, p.body);
  const types = await ctx.api("/api/dispatch/types").catch(() => ({ incident_types: [] }));
  state.names = new Map(types.incident_types.map((t) => [t.code, t.name]));
  ctx.on("incident", (e) => { if (e.incident_id === state.id) refreshSoon(); });
  ctx.on("unit", (u) => {
    if (state.incident && state.incident.status !== "closed" && u.centre === state.incident.centre) refreshSoon();
  });
  ctx.on("resync", () => refreshSoon());
}

export async function show(root, ctx, [id] = []) {
  if (!id) { ctx.go("#/board"); return; }
  if (id !== state.id) {
    state.id = id;
    state.incident = null;
    state.p.body.hidden = true;
    state.p.title.textContent = `Incident ${id}`;
    say(""); // the last incident's messages are not this one's
  }
  await load();
  state.p.title.focus(); // a screen reader announces which incident opened
}
