// The alert queue: what analytics and the system raised in the user's centres (the server scopes the list and
// the live feed), newest first. Each alert shows its anonymised snapshot and the facts an operator decides on;
// people decide (acknowledge, dismiss with a reason, promote to an incident), the server records who and why.
// Live: an `alert` event adds a new alert at the top (highlighted, and announced) or updates one in place.
// Live updates change items in place, never rebuild them, so a reason being typed or a focused button survives
// the repeats a busy camera sends every few seconds. An alert handled while shown stays until the next reload,
// so its outcome (the incident link, the reason) can be read; a reload applies the filter again.
// Colour is never the only cue: the severity is written out and the escalation level is said in words.
import { el, dateTime } from "/static/api.js";

const FILTERS = [["active", "Open and acknowledged"], ["open", "Open"], ["acknowledged", "Acknowledged"], ["all", "All"]];
const ACTIVE = ["open", "acknowledged"];
const LIMIT = 200;
const HIGHLIGHT_MS = 4000;

const state = { ctx: null, filter: "active", entries: new Map(), cameras: new Map(), types: [], p: null,
  mayHandle: false, ticket: 0, arrivedDuringLoad: null };

function stylesheet() {
  const href = new URL("./alerts.css", import.meta.url).pathname;
  if (!document.querySelector(`link[href="${href}"]`)) document.head.append(el("link", { rel: "stylesheet", href }));
}

const path = (id, suffix = "") => `/api/alerts/${encodeURIComponent(id)}${suffix}`;
const cameraName = (id) => (id ? state.cameras.get(id)?.name ?? id : "No camera (centre-wide)");
const matches = (status) => state.filter === "all" || status === state.filter || (state.filter === "active" && ACTIVE.includes(status));
// Actors are recorded as "user:<name>" (or "system", "cli:…"); people read the name.
const who = (actor) => String(actor ?? "").replace(/^user:/, "");
const byNewest = (a, b) => b.first_us - a.first_us || (b.id > a.id ? 1 : -1);

// ---- one alert ------------------------------------------------------------------------------------------

function snapshot(a) {
  if (!a.snapshot_url) return el("div", { class: "snapshot none" }, "No snapshot kept");
  // Lazy: each look at a snapshot is an audited view of the camera, so only the ones scrolled to are fetched.
  return el("img", { class: "snapshot", src: a.snapshot_url, loading: "lazy", width: 320, height: 180,
    alt: `Anonymised snapshot from ${cameraName(a.camera_id)} at ${dateTime(a.first_us)}` });
}

function item(a) {
  const titleId = `alert-${a.id}-title`;
  const p = { title: el("h3", { id: titleId, tabindex: -1 }), severity: el("span", { class: "severity" }),
    status: el("span", { class: "status" }), escalation: el("p", { class: "escalation" }), facts: el("dl", { class: "facts" }),
    outcome: el("p", { class: "outcome", tabindex: -1 }), error: el("p", { class: "error bad", role: "alert" }),
    actions: el("div", { class: "actions", role: "group", "aria-label": `Handle: ${a.title}` }) };
  const clip = a.clip_url ? el("a", { class: "clip", href: a.clip_url, target: "_blank", rel: "noopener" },
    "Anonymised clip of the moment (audited)") : null;
  const li = el("li", { class: "alert", dataset: { alert: a.id, rule: a.rule } },
    el("article", { "aria-labelledby": titleId },
      el("div", { class: "line" }, p.severity, p.title, p.status), p.escalation,
      el("div", { class: "body" }, snapshot(a),
        el("div", { class: "about" }, p.facts, clip, p.outcome, p.error, p.actions))));
  return { li, p, data: a, drawn: null };
}

function draw(entry) {
  const { data: a, p, li } = entry;
  Object.assign(li.dataset, { severity: a.severity, status: a.status });
  p.severity.textContent = a.severity;
  p.title.textContent = a.title;
  p.status.textContent = a.status;
  p.escalation.textContent = a.escalation_level > 0
    ? `Escalated · level ${a.escalation_level}${a.status === "open" ? " · not acknowledged in time" : ""}` : "";
  const facts = [["Camera", cameraName(a.camera_id)], ["Centre", a.centre], ["First", dateTime(a.first_us)],
    ["Last", dateTime(a.last_us)], ["Occurrences", String(a.occurrences)], ["Rule", a.rule]];
  if (a.handled_by) facts.push(["Handled by", who(a.handled_by)]);
  p.facts.replaceChildren(...facts.flatMap(([k, v]) => [el("dt", {}, k), el("dd", { dataset: { field: k.toLowerCase() } }, v)]));
  // Redrawn only when it says something new: the incident link in it may hold the keyboard focus.
  const said = [a.status, a.handled_by, a.dismiss_reason, a.incident_id].join("|");
  if (p.outcome.dataset.said !== said) { p.outcome.dataset.said = said; p.outcome.replaceChildren(...outcome(a)); }
  // The buttons change only when the status does: a repeat must not close a form someone is typing in.
  if (entry.drawn !== a.status) {
    const hadFocus = li.contains(document.activeElement) && p.actions.contains(document.activeElement);
    entry.drawn = a.status;
    p.actions.replaceChildren(...actions(entry));
    if (hadFocus) (p.actions.querySelector("button") ?? (p.outcome.querySelector("a") || p.outcome)).focus();
  }
}

function outcome(a) {
  if (a.status === "acknowledged") return [`Acknowledged by ${who(a.handled_by)}`];
  if (a.status === "dismissed") return [`Dismissed by ${who(a.handled_by)}${a.dismiss_reason ? `: “${a.dismiss_reason}”` : ""}`];
  if (a.status === "promoted" && a.incident_id) {
    return [`Promoted by ${who(a.handled_by)} to `, el("a", { href: `#/incident/${encodeURIComponent(a.incident_id)}` },
      `incident ${a.incident_id}`)];
  }
  return [];
}

function actions(entry) {
  const { data: a } = entry;
  if (!state.mayHandle || !ACTIVE.includes(a.status)) return [];
  const act = (label, onclick, extra = {}) => el("button", { type: "button", class: "secondary", onclick, ...extra }, label);
  return [
    a.status === "open" ? act("Acknowledge", (e) => handle(entry, e.currentTarget, "/acknowledge", {}), { class: "ack" }) : null,
    act("Dismiss…", () => openForm(entry, dismissForm(entry)), { "aria-expanded": "false", dataset: { form: "dismiss" } }),
    act("Promote to incident…", () => openForm(entry, promoteForm(entry)), { "aria-expanded": "false", dataset: { form: "promote" } }),
  ].filter(Boolean);
}

// One inline form at a time per alert, opened under the buttons and focused; Escape or Cancel closes it.
function openForm(entry, form) {
  entry.p.actions.querySelector("form")?.remove();
  for (const b of entry.p.actions.querySelectorAll("[aria-expanded]")) {
    b.setAttribute("aria-expanded", String(b.dataset.form === form.dataset.form));
  }
  form.addEventListener("keydown", (e) => { if (e.key === "Escape") closeForm(entry); });
  entry.p.actions.append(form);
  form.querySelector("input, select").focus();
}

function closeForm(entry) {
  const kind = entry.p.actions.querySelector("form")?.dataset.form;
  entry.p.actions.querySelector("form")?.remove();
  entry.p.error.textContent = "";
  for (const b of entry.p.actions.querySelectorAll("[aria-expanded]")) b.setAttribute("aria-expanded", "false");
  entry.p.actions.querySelector(`[data-form="${kind}"]`)?.focus();
}

const cancel = (entry) => el("button", { type: "button", class: "secondary", onclick: () => closeForm(entry) }, "Cancel");

function dismissForm(entry) {
  const id = `dismiss-${entry.data.id}`;
  const reason = el("input", { id, name: "reason", maxlength: 1000, autocomplete: "off", "aria-describedby": `${id}-hint`,
    oninput: (e) => e.currentTarget.removeAttribute("aria-invalid") });
  return el("form", { class: "inline", dataset: { form: "dismiss" }, novalidate: true, onsubmit: (e) => {
    e.preventDefault();
    if (!reason.value.trim()) {
      reason.setAttribute("aria-invalid", "true");
      entry.p.error.textContent = "Give the reason it needs nothing (a false alarm, a known works crew…).";
      reason.focus();
      return;
    }
    handle(entry, e.submitter, "/dismiss", { reason: reason.value.trim() });
  } },
  el("label", { for: id }, "Reason (required)"), reason,
  el("span", { id: `${id}-hint`, class: "note" }, "Kept with the alert and in the audit log."),
  el("button", { type: "submit" }, "Dismiss alert"), cancel(entry));
}

function promoteForm(entry) {
  const id = `promote-${entry.data.id}`;
  const types = el("select", { id, name: "type_code", required: true },
    el("option", { value: "" }, state.types.length ? "Choose a type…" : "No incident types could be loaded"),
    ...state.types.map((t) => el("option", { value: t.code }, t.name)));
  return el("form", { class: "inline", dataset: { form: "promote" }, novalidate: true, onsubmit: (e) => {
    e.preventDefault();
    if (!types.value) { entry.p.error.textContent = "Choose the incident's type."; types.focus(); return; }
    handle(entry, e.submitter, "/promote", { type_code: types.value });
  } },
  el("label", { for: id }, "Incident type"), types,
  el("span", { class: "note" }, entry.data.camera_id ? "Opened at the camera's position." : ""),
  el("button", { type: "submit" }, "Open incident"), cancel(entry));
}

async function handle(entry, button, action, body) {
  if (button) button.disabled = true; // one click, one request
  entry.p.error.textContent = "";
  try {
    const view = await state.ctx.post(path(entry.data.id, action), body);
    entry.data = view;
    entry.drawn = null;
    draw(entry);
    (entry.p.outcome.querySelector("a") ?? entry.p.outcome).focus(); // the buttons are gone: land on the result
  } catch (error) {
    entry.p.error.textContent = `Not done: ${error.message}.`;
    if (button) button.disabled = false;
    refresh(entry.data.id); // someone else may have handled it meanwhile
  }
}

// ---- the list -------------------------------------------------------------------------------------------

function place(a, { fresh = false } = {}) {
  let entry = state.entries.get(a.id);
  if (entry) { entry.data = { ...entry.data, ...a }; draw(entry); return entry; }
  entry = item(a);
  state.entries.set(a.id, entry);
  draw(entry);
  const older = [...state.entries.values()].filter((e) => e !== entry && byNewest(a, e.data) < 0);
  const after = older.sort((x, y) => byNewest(x.data, y.data))[0]; // the newest of those older than it
  state.p.list.insertBefore(entry.li, after?.li ?? null);
  if (fresh) {
    entry.li.classList.add("fresh");
    setTimeout(() => entry.li.classList.remove("fresh"), HIGHLIGHT_MS);
  }
  empty();
  return entry;
}

function empty() {
  state.p.empty.hidden = state.entries.size > 0;
  state.p.count.textContent = `${[...state.entries.values()].filter((e) => e.data.status === "open").length} open shown`;
}

async function refresh(id, options) {
  const view = await state.ctx.api(path(id)).catch(() => null);
  if (view && (state.entries.has(id) || matches(view.status))) place(view, options);
}

async function reload() {
  const ticket = ++state.ticket; // only the newest answer draws: an older one may finish later
  state.arrivedDuringLoad = new Set();
  const query = state.filter === "all" ? "" : `status=${state.filter}&`;
  try {
    const list = await state.ctx.api(`/api/alerts?${query}limit=${LIMIT}`);
    if (ticket !== state.ticket) return;
    state.entries = new Map();
    state.p.list.replaceChildren();
    list.forEach((a) => place(a));
    state.p.error.textContent = "";
    // Raised while the list was on its way (and perhaps committed after it was read): fetched one by one.
    for (const id of state.arrivedDuringLoad) if (!state.entries.has(id)) refresh(id, { fresh: true });
  } catch (error) {
    if (ticket === state.ticket) state.p.error.textContent = `The alerts could not be loaded: ${error.message}.`;
  } finally {
    if (ticket === state.ticket) { state.arrivedDuringLoad = null; empty(); state.p.list.setAttribute("aria-busy", "false"); }
  }
}

function onAlert(event) {
  const known = state.entries.get(event.alert_id);
  if (event.change === "raised") {
    // Critical ones interrupt a screen reader; the others wait for a pause.
    state.p.live.setAttribute("aria-live", event.severity === "critical" ? "assertive" : "polite");
    state.p.live.textContent = `New ${event.severity} alert: ${event.title}, ${cameraName(event.camera_id)}`;
    state.arrivedDuringLoad?.add(event.alert_id);
    if (!known && matches("open")) refresh(event.alert_id, { fresh: true }); // the full view has the clip and snapshot
  } else if (known) {
    const { change, alert_id, ...fields } = event;
    place({ ...fields, id: alert_id });
    if (change === "dismissed") refresh(alert_id); // the event does not carry the reason
    if (change === "escalated" && event.status === "open") state.p.live.textContent = `Escalated: ${known.data.title}`;
  } else if (matches(event.status)) {
    refresh(event.alert_id);
  }
}

export async function mount(root, ctx) {
  stylesheet();
  root.id = "alerts";
  state.ctx = ctx;
  state.mayHandle = ctx.me.permissions.includes("alerts:handle");
  const filter = el("select", { id: "alerts-filter", onchange: () => { state.filter = filter.value; reload(); } },
    ...FILTERS.map(([value, label]) => el("option", { value, selected: value === state.filter }, label)));
  state.p = { list: el("ol", { id: "alerts-list", class: "queue", "aria-labelledby": "alerts-title", "aria-busy": "true" }),
    live: el("p", { id: "alerts-live", class: "visually-hidden", "aria-live": "assertive" }),
    error: el("p", { id: "alerts-error", class: "bad", role: "alert" }), count: el("span", { class: "note", id: "alerts-count" }),
    empty: el("p", { class: "note empty", hidden: true }, "No alerts here. New ones appear at the top as they are raised.") };
  root.append(el("div", { class: "alerts-head" }, el("h2", { id: "alerts-title" }, "Alerts"), state.p.count,
    el("label", { for: "alerts-filter" }, "Show"), filter,
    el("p", { class: "note hint" }, "Newest first. Snapshots and clips are anonymised; opening them is audited.")),
  state.p.live, state.p.error, state.p.empty, state.p.list);
  // Names are a nicety: without them the queue shows camera ids and promotion says types cannot be loaded.
  const [cameras, types] = await Promise.all([ctx.api("/api/cameras").catch(() => []),
    ctx.api("/api/dispatch/types").catch(() => ({ incident_types: [] }))]);
  state.cameras = new Map(cameras.map((c) => [c.id, c]));
  state.types = types.incident_types;
  ctx.on("alert", onAlert); // before the first load, so nothing raised meanwhile is missed
  ctx.on("resync", () => reload());
  await reload();
}

// `#/alerts/<id>` (the map's link) brings one alert into view and focus, even one the filter leaves out.
export async function show(root, ctx, [id] = []) {
  if (!id || !state.p) return;
  if (!state.entries.has(id)) {
    const alert = await ctx.api(path(id)).catch(() => null);
    if (alert) place(alert);
  }
  const entry = state.entries.get(id);
  if (!entry) { state.p.error.textContent = `No alert ${id} in your centres.`; return; }
  entry.li.scrollIntoView({ block: "center" });
  entry.p.title.focus();
}

// The navigation's "Alerts (n)": open alerts of the user's centres, kept current by the live feed. Recounted
// from the server (at most one request in flight, one queued) rather than by arithmetic on events, which
// cannot tell what a dismissed alert was before.
export function countInNav(ctx) {
  const link = document.querySelector('#nav a[data-view="alerts"]');
  if (!link) return;
  const badge = el("span", { class: "nav-count" });
  link.append(badge);
  let busy = false, again = false;
  const recount = async () => {
    if (busy) { again = true; return; }
    busy = true;
    try {
      do {
        again = false;
        const open = await ctx.api("/api/alerts?status=open&limit=1000").catch(() => null);
        if (open) badge.textContent = open.length ? ` (${open.length >= 1000 ? "1000+" : open.length})` : "";
      } while (again);
    } finally { busy = false; }
  };
  ctx.on("alert", (e) => { if (e.change !== "repeated" && e.change !== "escalated") recount(); });
  ctx.on("resync", recount);
  recount();
}
