// Call taking: a form made for the keyboard (the caller's number has focus, Tab moves on, Enter records the
// call), then the decision every call needs: join an incident it duplicates, open a new incident, or close it
// as misuse. The call is recorded on the server the moment Enter is pressed, before any decision, so nothing
// a caller said is lost if the taker is interrupted; an undecided call stays in "Last calls" to resume.
// Shortcuts use Alt plus a letter (matched by key position, so a Mac's Option characters do not get in the
// way); plain typing and screen reader keys pass through untouched.
import { el, time } from "/static/api.js";

const SHORTCUTS = { KeyN: "newCall", KeyI: "openIncident", KeyM: "misuse" };
const RECENT = 8;

const state = { ctx: null, root: null, types: [], kinds: [], byCode: new Map(), current: null, recent: [], parts: null };

function stylesheet() {
  const href = new URL("./calls.css", import.meta.url).pathname;
  if (!document.querySelector(`link[href="${href}"]`)) document.head.append(el("link", { rel: "stylesheet", href }));
}

const field = (label, control, extra = null) => el("label", {}, label, control, extra);
const input = (name, attributes = {}) => el("input", { name, autocomplete: "off", ...attributes });

// "-0,16" is how a Spanish-speaking caller or keyboard writes it: accept both decimal marks.
function coordinate(text, min, max, name) {
  const value = Number(text.trim().replace(",", "."));
  if (!text.trim()) return null;
  if (!Number.isFinite(value) || value < min || value > max) throw new Error(`${name} must be a number from ${min} to ${max}`);
  return value;
}

function position(form) {
  const lat = coordinate(form.lat.value, -90, 90, "Latitude");
  const lon = coordinate(form.lon.value, -180, 180, "Longitude");
  if ((lat === null) !== (lon === null)) throw new Error("Give both latitude and longitude, or neither");
  return { lat, lon };
}

function say(message, { error = false } = {}) {
  const { alert, status } = state.parts;
  alert.textContent = error ? message : "";
  if (!error) status.replaceChildren(...[message].flat());
}

const typeName = (code) => state.byCode.get(code)?.name ?? code;
const distance = (m) => (m < 1000 ? `${Math.round(m)} m` : `${(m / 1000).toFixed(1)} km`);
const incidentLink = (id) => el("a", { href: `#/incident/${encodeURIComponent(id)}` }, id);

// ---- the intake form ------------------------------------------------------------------------------------

function intakeForm() {
  const text = el("textarea", { name: "text", rows: 3, "aria-describedby": "call-text-hint" });
  const form = el("form", { id: "call-form", "aria-labelledby": "calls-title", novalidate: true },
    field("Caller number", input("caller_number", { required: true, inputmode: "tel", "aria-keyshortcuts": "Alt+N" })),
    field("Location as given", input("location_text")),
    el("div", { class: "pair" },
      field("Latitude", input("lat", { inputmode: "decimal" })),
      field("Longitude", input("lon", { inputmode: "decimal" }))),
    field("What the caller says", text),
    el("p", { id: "call-text-hint", class: "note hint" }, "Enter records the call; Shift+Enter starts a new line."),
    el("button", { type: "submit" }, "Record call"));
  // A textarea takes Enter as a new line; here Enter records, as in every other field of the form.
  text.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { event.preventDefault(); form.requestSubmit(); }
  });
  form.addEventListener("submit", (event) => { event.preventDefault(); record(form); });
  return form;
}

async function record(form) {
  const number = form.caller_number.value.trim();
  if (!number) { say("The caller's number is needed (write \"unknown\" if it is withheld).", { error: true }); form.caller_number.focus(); return; }
  let where;
  try { where = position(form); } catch (error) { say(error.message, { error: true }); form.lat.focus(); return; }
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    const answer = await state.ctx.post("/api/dispatch/calls", {
      caller_number: number, location_text: form.location_text.value.trim(), text: form.text.value.trim(),
      ...(where.lat === null ? {} : where),
    });
    if (state.current) remember(state.current.call, null); // left undecided: listed, to resume
    form.reset();
    say(`Call recorded at ${time(answer.call.answered_us)} UTC. Decide what it is.`);
    decide(answer.call, answer.duplicates);
  } catch (error) {
    say(`The call was not recorded: ${error.message}`, { error: true });
  } finally {
    button.disabled = false;
  }
}

// ---- the decision panel ---------------------------------------------------------------------------------

function decisionPanel() {
  const p = {
    title: el("h3", { id: "call-panel-title", tabindex: -1 }),
    summary: el("dl", { class: "summary" }),
    duplicates: el("ul", { class: "duplicates", id: "call-duplicates" }),
    type: el("select", { name: "type_code", required: true, "aria-keyshortcuts": "Alt+I" },
      el("option", { value: "" }, "Choose a type (type its first letters)"),
      state.types.map((t) => el("option", { value: t.code }, `${t.name} · P${t.priority} · ${t.agencies.join(", ")}`))),
    priority: el("select", { name: "priority" }),
    // No kind is preselected: closing a call as misuse is always a choice, never a default.
    kind: el("select", { name: "kind", required: true, "aria-keyshortcuts": "Alt+M" },
      el("option", { value: "" }, "Choose a kind"),
      state.kinds.map((k) => el("option", { value: k }, k.replaceAll("-", " ")))),
  };
  const incident = el("form", { id: "incident-form", "aria-labelledby": "open-incident-title", novalidate: true },
    el("h4", { id: "open-incident-title" }, "Open incident ", el("kbd", {}, "Alt+I")),
    field("Incident type", p.type),
    field("Address", input("address")),
    el("div", { class: "pair" }, field("Latitude", input("lat", { inputmode: "decimal" })),
      field("Longitude", input("lon", { inputmode: "decimal" }))),
    field("Priority", p.priority),
    el("button", { type: "submit" }, "Open incident"));
  const misuse = el("form", { id: "misuse-form", "aria-labelledby": "misuse-title", novalidate: true },
    el("h4", { id: "misuse-title" }, "Misuse ", el("kbd", {}, "Alt+M")),
    field("Kind", p.kind),
    el("button", { type: "submit", class: "secondary" }, "Close as misuse"));
  p.type.addEventListener("change", () => priorities(p.priority, p.type.value));
  incident.addEventListener("submit", (event) => { event.preventDefault(); openIncident(incident); });
  misuse.addEventListener("submit", (event) => {
    event.preventDefault();
    if (p.kind.value) closeAsMisuse(p.kind.value);
    else { say("Choose the kind of misuse.", { error: true }); p.kind.focus(); }
  });
  priorities(p.priority, "");
  p.panel = el("section", { id: "call-panel", class: "decide", "aria-labelledby": "call-panel-title", hidden: true },
    p.title, p.summary,
    el("h4", {}, "Possible duplicates"), p.duplicates,
    el("div", { class: "choices" }, incident, misuse));
  p.incident = incident;
  return p;
}

// The type's own priority is the default, named in the option, so the taker changes it only on purpose.
function priorities(select, code) {
  const own = state.byCode.get(code)?.priority;
  select.replaceChildren(el("option", { value: "" }, own ? `The type's default (P${own})` : "The type's default"),
    [1, 2, 3, 4, 5].map((n) => el("option", { value: n }, `P${n}${n === 1 ? " (most urgent)" : ""}`)));
}

function decide(call, duplicates) {
  const p = state.parts;
  state.current = { call, duplicates };
  p.title.textContent = `Call ${call.id}, answered ${time(call.answered_us)} UTC`;
  const rows = [["Caller", call.caller_number], ["Location", call.location_text || "–"],
    ["Position", call.lat === null ? "none given" : `${call.lat}, ${call.lon}`], ["Says", call.text || "–"]];
  p.summary.replaceChildren(...rows.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
  p.duplicates.replaceChildren(...(duplicates.length ? duplicates.map(duplicateItem)
    : [el("li", { class: "note" }, call.lat === null ? "None: without a position, duplicates cannot be looked for."
      : "None: no open incident near this position recently.")]));
  const form = p.incident;
  form.reset();
  p.kind.value = "";
  priorities(p.priority, "");
  form.address.value = call.location_text;
  form.lat.value = call.lat ?? "";
  form.lon.value = call.lon ?? "";
  p.panel.hidden = false;
  p.title.focus(); // screen readers hear the call and its suggestions; Tab goes on to the first choice
}

function duplicateItem({ incident, distance_m: meters, minutes_ago: minutes }) {
  return el("li", { dataset: { incident: incident.id } },
    el("span", { class: "what" }, incidentLink(incident.id), ` ${typeName(incident.type_code)} · P${incident.priority} · ${incident.status}`),
    el("span", { class: "note" }, `${distance(meters)} away · ${minutes.toFixed(1)} min ago${incident.address ? ` · ${incident.address}` : ""}`),
    el("button", { type: "button", "aria-label": `Merge into this: incident ${incident.id}`,
      onclick: (event) => merge(incident.id, event.currentTarget) }, "Merge into this"));
}

async function act(button, what, request, done) {
  const call = state.current?.call;
  if (!call) return;
  if (button) button.disabled = true;
  try {
    const result = await request(call);
    remember(call, result);
    finish(done(result));
  } catch (error) {
    say(`Could not ${what}: ${error.message}`, { error: true });
  } finally {
    if (button) button.disabled = false;
  }
}

function merge(incidentId, button) {
  return act(button, "merge the call", (call) => state.ctx.post(`/api/dispatch/calls/${call.id}/merge`, { incident_id: incidentId }),
    () => ["Call merged into incident ", incidentLink(incidentId), "."]);
}

function openIncident(form) {
  const code = form.type_code.value;
  if (!code) { say("Choose the incident type.", { error: true }); form.type_code.focus(); return null; }
  let where;
  try { where = position(form); } catch (error) { say(error.message, { error: true }); form.lat.focus(); return null; }
  if (where.lat === null) { say("An incident needs a position: latitude and longitude.", { error: true }); form.lat.focus(); return null; }
  const priority = form.priority.value ? Number(form.priority.value) : null;
  return act(form.querySelector("button[type=submit]"), "open the incident", (call) => state.ctx.post("/api/dispatch/incidents", {
    call_id: call.id, type_code: code, address: form.address.value.trim(), ...where, ...(priority ? { priority } : {}),
  }), (incident) => ["Incident ", incidentLink(incident.id), ` opened: ${typeName(incident.type_code)}, P${incident.priority}, centre ${incident.centre}.`]);
}

function closeAsMisuse(kind) {
  return act(state.parts.panel.querySelector("#misuse-form button"), "close the call",
    (call) => state.ctx.post(`/api/dispatch/calls/${call.id}/misuse`, { kind }),
    () => [`Call closed as misuse (${kind.replaceAll("-", " ")}).`]);
}

// After a decision: the outcome said, a fresh form, the caller number focused for the next call.
function finish(message) {
  state.current = null;
  state.parts.panel.hidden = true;
  say(message);
  newCall();
}

function newCall() {
  const form = state.parts.form;
  if (state.current) { remember(state.current.call, null); state.current = null; state.parts.panel.hidden = true; }
  form.caller_number.focus();
}

// ---- last calls -----------------------------------------------------------------------------------------

function remember(call, result) {
  state.recent = [{ call, result }, ...state.recent.filter((r) => r.call.id !== call.id)].slice(0, RECENT);
  renderRecent();
}

function outcome({ call, result }) {
  if (!result) {
    return ["open, no decision yet ", el("button", { type: "button", class: "secondary small",
      onclick: () => resume(call) }, "Resume")];
  }
  if (result.outcome === "misuse") return [`misuse: ${result.misuse_kind}`];
  if (result.outcome === "merged") return ["merged into ", incidentLink(result.incident_id)];
  return ["incident ", incidentLink(result.incident_id ?? result.id)]; // a call's, or the incident just opened
}

function renderRecent() {
  const list = state.parts.recent;
  list.replaceChildren(...(state.recent.length ? state.recent.map((r) => el("li", { dataset: { call: r.call.id } },
    el("span", { class: "when" }, time(r.call.answered_us)), ` ${r.call.caller_number} · `, ...outcome(r)))
    : [el("li", { class: "note empty" }, "None yet in this session.")]));
}

// Suggestions are looked up again: incidents may have opened or closed since the call came in.
async function resume(call) {
  try {
    const fresh = await state.ctx.api(`/api/dispatch/calls/${encodeURIComponent(call.id)}`);
    if (fresh.outcome !== "open") { remember(fresh, fresh); say(`Call ${call.id} was already decided.`); return; }
    if (state.current && state.current.call.id !== call.id) remember(state.current.call, null);
    state.recent = state.recent.filter((r) => r.call.id !== call.id);
    renderRecent();
    decide(fresh, []);
    say(`Call ${call.id} resumed; duplicates are only suggested when a call is recorded, so check the board.`);
  } catch (error) {
    say(`Could not resume the call: ${error.message}`, { error: true });
  }
}

// ---- shortcuts ------------------------------------------------------------------------------------------

function shortcut(event) {
  if (!event.altKey || event.ctrlKey || event.metaKey || event.shiftKey || state.root.hidden) return;
  const action = SHORTCUTS[event.code];
  if (!action) return;
  event.preventDefault();
  if (action === "newCall") { newCall(); return; }
  if (!state.current) { say("No call to decide: record one first.", { error: true }); return; }
  (action === "openIncident" ? state.parts.type : state.parts.kind).focus();
}

export async function mount(root, ctx) {
  stylesheet();
  root.id = "calls";
  state.ctx = ctx;
  state.root = root;
  const alert = el("p", { id: "calls-error", role: "alert", class: "bad" });
  const taxonomy = await ctx.api("/api/dispatch/types").catch((error) => {
    alert.textContent = `Incident types could not be loaded: ${error.message}`;
    return { incident_types: [], misuse_kinds: ["other"] };
  });
  state.types = taxonomy.incident_types;
  state.kinds = taxonomy.misuse_kinds;
  state.byCode = new Map(state.types.map((t) => [t.code, t]));
  const p = decisionPanel();
  state.parts = { ...p, alert, status: el("p", { id: "calls-status", role: "status" }), form: intakeForm(),
    recent: el("ol", { id: "last-calls", class: "recent" }) };
  root.append(
    el("div", { class: "calls-head" },
      el("h2", { id: "calls-title" }, "Take a call"),
      el("p", { class: "keys", id: "calls-keys" }, "Shortcuts: ", el("kbd", {}, "Alt+N"), " new call · ",
        el("kbd", {}, "Alt+I"), " open incident · ", el("kbd", {}, "Alt+M"), " misuse · ", el("kbd", {}, "Enter"), " records or confirms")),
    alert, state.parts.status,
    el("div", { class: "calls-layout" },
      el("div", { class: "intake" }, state.parts.form,
        el("h3", { id: "last-calls-title" }, "Last calls"), state.parts.recent),
      p.panel));
  renderRecent();
  document.addEventListener("keydown", shortcut);
}

export function show() {
  // Back on the view: straight to where the taker left off, the open call's choices or the next caller.
  if (state.current) state.parts.title.focus();
  else state.parts.form.caller_number.focus();
}
