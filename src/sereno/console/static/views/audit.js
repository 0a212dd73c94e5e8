// The audit view: search the append-only log (by actor, action prefix, period), page back through it, and, for
// those who may verify, whether the hash chain and its signed checkpoints hold. The server scopes the entries
// to the viewer's centres and records each search in the same log; nothing here can change an entry.
import { el, dateTime } from "/static/api.js";

const LIMITS = [10, 25, 50, 100, 250, 500];
const COLUMNS = ["#", "Time (UTC)", "Actor", "Action", "Target", "Centre", "Outcome", "Details"];

// pages: the before_seq of each page shown so far (null: the newest), so "Newer" can go back without guessing.
const state = { api: null, form: null, parts: null, pages: [null], lastSeq: null, full: false, ticket: 0 };

function stylesheet() {
  const href = new URL("./audit.css", import.meta.url).pathname;
  if (!document.querySelector(`link[href="${href}"]`)) document.head.append(el("link", { rel: "stylesheet", href }));
}

// Details are stored as JSON text; shown pretty when they parse, as they are when not. Collapsed by default so
// the table stays one line per entry; <details> opens with the keyboard on its own.
function detailsCell(raw) {
  if (!raw || raw === "{}" || raw === "null") return el("td", { class: "note" }, "–");
  let pretty = raw;
  try { pretty = JSON.stringify(JSON.parse(raw), null, 2); } catch { /* not JSON: show the text */ }
  const preview = raw.length > 40 ? `${raw.slice(0, 40)}…` : raw;
  return el("td", {}, el("details", {}, el("summary", {}, preview), el("pre", {}, pretty)));
}

function entryRow(e) {
  const failed = e.outcome !== "ok";  // "denied" and the like: worth a second look
  return el("tr", { dataset: { seq: e.seq } },
    el("td", { class: "num" }, String(e.seq)), el("td", { class: "when" }, dateTime(e.ts_us)),
    el("td", {}, e.actor), el("td", {}, e.action), el("td", {}, e.target), el("td", {}, e.centre || "–"),
    el("td", { class: failed ? "bad" : null }, e.outcome), detailsCell(e.details));
}

function query(beforeSeq) {
  const form = state.form;
  const params = new URLSearchParams({ limit: form.limit.value });
  if (form.actor.value.trim()) params.set("actor", form.actor.value.trim());
  if (form.action.value.trim()) params.set("action", form.action.value.trim());
  // datetime-local has no zone; the labels say UTC, so the value is read as UTC.
  for (const [field, name] of [["from", "since_us"], ["to", "until_us"]]) {
    if (!form[field].value) continue;
    const ms = Date.parse(`${form[field].value}Z`);
    if (Number.isNaN(ms)) throw new Error(`"${field}" is not a date and time`);
    params.set(name, String(ms * 1000));
  }
  if (beforeSeq != null) params.set("before_seq", String(beforeSeq));
  return params.toString();
}

async function load() {
  const { body, status, older, newer } = state.parts;
  const beforeSeq = state.pages[state.pages.length - 1];
  const ticket = ++state.ticket;  // only the latest search draws
  let qs;
  try { qs = query(beforeSeq); } catch (error) { status.className = "bad"; status.textContent = error.message; return; }
  status.className = "note";
  status.textContent = "Searching…";
  try {
    const rows = await state.api(`/api/audit/entries?${qs}`);
    if (ticket !== state.ticket) return;
    body.replaceChildren(...rows.map(entryRow));
    if (!rows.length) {
      body.append(el("tr", {}, el("td", { colspan: COLUMNS.length, class: "note" }, "No entries match.")));
    }
    state.lastSeq = rows.length ? rows[rows.length - 1].seq : null;
    // A short page is the last one; a full page may have more behind it.
    state.full = rows.length === Number(state.form.limit.value);
    older.disabled = !state.full;
    newer.disabled = state.pages.length === 1;
    const page = state.pages.length === 1 ? "newest first" : `page ${state.pages.length}, older`;
    const end = state.full ? "" : " No older entries.";
    status.textContent = rows.length ? `${rows.length} entries (#${rows[0].seq} to #${state.lastSeq}), ${page}.${end}`
      : "No entries match.";
  } catch (error) {
    if (ticket !== state.ticket) return;
    status.className = "bad";
    status.textContent = `The search failed: ${error.message}`;
  }
}

async function verify() {
  const { chain, notes, again } = state.parts;
  chain.className = "";
  chain.textContent = "Verifying the chain…";
  notes.replaceChildren();
  again.disabled = true;
  try {
    const r = await state.api("/api/audit/verify");
    chain.className = r.ok ? "ok" : "bad";
    // The verdict leads with a word, so it does not rest on the colour.
    chain.textContent = r.ok
      ? `Chain verified: ${r.entries} entries, ${r.checkpoints} signed checkpoints` +
        `${r.checkpoints ? ` (last at #${r.last_checkpoint_seq})` : ""}, checked in ${r.seconds.toFixed(2)} s.`
      : `Chain BROKEN at entry #${r.first_bad_seq}: ${r.problem}`;
    notes.replaceChildren(...r.notes.map((n) => el("li", {}, n)));
  } catch (error) {
    chain.className = "bad";
    chain.textContent = `Verification could not run: ${error.message}`;
  } finally {
    again.disabled = false;
  }
}

function searchForm() {
  const form = el("form", { class: "audit-search", role: "search", "aria-label": "Search the audit log" },
    el("label", {}, "Actor", el("input", { name: "actor", autocomplete: "off", placeholder: "user:alice" })),
    el("label", {}, "Action starts with", el("input", { name: "action", autocomplete: "off", placeholder: "auth." })),
    el("label", {}, "From (UTC)", el("input", { name: "from", type: "datetime-local" })),
    el("label", {}, "To (UTC)", el("input", { name: "to", type: "datetime-local" })),
    el("label", {}, "Per page", el("select", { name: "limit" },
      LIMITS.map((n) => el("option", { value: n, selected: n === 50 }, String(n))))),
    el("span", { class: "buttons" },
      el("button", { type: "submit" }, "Search"),
      el("button", { type: "reset", class: "secondary" }, "Clear")));
  form.addEventListener("submit", (event) => { event.preventDefault(); state.pages = [null]; load(); });
  // After the browser clears the fields: back to the newest entries of the whole log.
  form.addEventListener("reset", () => setTimeout(() => { state.pages = [null]; load(); }));
  return form;
}

export async function mount(root, { api, me }) {
  stylesheet();
  state.api = api;
  state.form = searchForm();
  const mayVerify = me.permissions.includes("audit:verify");
  state.parts = {
    chain: el("p", { id: "audit-status", role: "status" }),
    notes: el("ul", { class: "note" }),
    again: el("button", { type: "button", class: "secondary", onclick: () => verify() }, "Verify again"),
    status: el("p", { id: "audit-results-status", role: "status", class: "note" }),
    body: el("tbody"),
    older: el("button", { type: "button", class: "secondary", disabled: true }, "Older entries"),
    newer: el("button", { type: "button", class: "secondary", disabled: true }, "Newer entries"),
  };
  const p = state.parts;
  p.older.addEventListener("click", () => { if (state.full) { state.pages.push(state.lastSeq); load(); } });
  p.newer.addEventListener("click", () => { if (state.pages.length > 1) { state.pages.pop(); load(); } });
  if (!mayVerify) p.chain.textContent = "Verifying the chain is for auditors; ask one if you need its status.";
  root.append(
    el("h2", {}, "Audit log"),
    el("section", { class: "audit-chain", "aria-labelledby": "audit-chain-title" },
      el("h3", { id: "audit-chain-title" }, "Chain integrity"),
      p.chain, p.notes, mayVerify ? p.again : null,
      el("p", { class: "note" },
        "To check the log yourself, away from this server: ",
        el("a", { href: "/api/audit/public-key", download: "sereno-audit-public.pem" }, "download the public key"),
        " and run ", el("code", {}, "sereno audit verify --public-key sereno-audit-public.pem"),
        " on a copy of the database.")),
    el("section", { "aria-labelledby": "audit-search-title" },
      el("h3", { id: "audit-search-title" }, "Search"),
      state.form, p.status,
      el("div", { class: "scroll" }, el("table", { class: "audit-entries" },
        el("caption", { class: "visually-hidden" }, "Audit entries, newest first"),
        el("thead", {}, el("tr", {}, COLUMNS.map((h) => el("th", { scope: "col" }, h)))), p.body)),
      el("nav", { class: "pager", "aria-label": "Audit pages" }, p.newer, p.older)),
  );
  // One after the other: verifying while this view's own search appends its audit entry can read the chain
  // head and the last entry at different moments and report a break that is not there.
  await load();
  if (mayVerify) await verify();
}
