// The supervisor's view: response-time KPIs over a window (percentiles against the NENA/NFPA targets, the
// server's SVG chart, calls by outcome, misuse by kind, a CSV of the same) and each centre's load right now,
// kept current from the live feed. The server scopes every answer to the supervisor's centres; this module
// only lays out what comes back.
import { el, dateTime, time } from "/static/api.js";

const WINDOWS = { "1h": ["Last hour", 3600], "24h": ["Last 24 hours", 86_400], "7d": ["Last 7 days", 604_800],
  custom: ["Custom period (UTC)", null] };
const GROUPS = { centre: "Centre", agency: "Agency", hour: "Hour (centre's time)" };
const METRICS = ["answer", "processing", "turnout", "travel", "total"];
const OPEN = [["new", "New"], ["dispatched", "Dispatched"], ["en-route", "En route"], ["on-scene", "On scene"]];
const BUSY = new Set(["dispatched", "en-route", "on-scene", "returning"]);
// Live events come in bursts (one dispatch moves a unit and an incident); coalescing them keeps a busy centre
// from turning every event into three requests. The report changes slowly, so it waits longer.
const LOAD_WAIT_MS = 1000;
const REPORT_WAIT_MS = 15_000;

// One console page mounts the view once; the counters number requests so that only the latest answer is drawn.
const state = { root: null, api: null, form: null, parts: null, report: 0, load: 0 };

// Met when the 90th percentile is within the target: the standards ask for 90% within it, and the chart colours
// its bars by the same rule, so the table and the picture never disagree.
const verdict = (row) =>
  (row.target_s == null || row.p90_s == null ? null : row.p90_s <= row.target_s ? "met" : "missed");
const seconds = (v) => (v == null ? "–" : `${v} s`);
const percent = (part, whole) => (whole ? `${((part / whole) * 100).toFixed(1)}%` : "–");
const utcInput = (ms) => new Date(ms).toISOString().slice(0, 16);

function coalesce(fn, ms) {
  let timer = null;
  return () => { if (!timer) timer = setTimeout(() => { timer = null; fn(); }, ms); };
}

function stylesheet() {
  const href = new URL("./kpis.css", import.meta.url).pathname;
  if (!document.querySelector(`link[href="${href}"]`)) document.head.append(el("link", { rel: "stylesheet", href }));
}

// `numeric`: the columns holding numbers, whose headers align right with their figures.
function table(caption, headers, rows, className, numeric = []) {
  return el("table", { class: className },
    el("caption", {}, caption),
    el("thead", {}, el("tr", {},
      headers.map((h, i) => el("th", { scope: "col", class: numeric.includes(i) ? "num" : null }, h)))),
    el("tbody", {}, rows));
}

function period() {
  const form = state.form;
  if (form.span.value !== "custom") {
    const until = Date.now() * 1000;
    return { since_us: until - WINDOWS[form.span.value][1] * 1_000_000, until_us: until };
  }
  // datetime-local has no zone; the labels say UTC, so the value is read as UTC.
  const since = Date.parse(`${form.from.value}Z`);
  const until = Date.parse(`${form.to.value}Z`);
  if (Number.isNaN(since) || Number.isNaN(until)) throw new Error("Give the start and the end of the period (UTC).");
  return { since_us: since * 1000, until_us: until * 1000 };
}

// The chart's text alternative: what a sighted supervisor takes from it at a glance (how many targets held and
// which did not); the exact figures are in the table that follows.
function summary(report) {
  if (!report.rows.length) return "Response-time chart: no incidents in this period.";
  const judged = report.rows.filter(verdict);
  const missed = judged.filter((r) => verdict(r) === "missed");
  const words = [`Response-time chart by ${report.group_by}: ${judged.length - missed.length} of ${judged.length} ` +
    "targets met at the 90th percentile."];
  if (missed.length) {
    const named = missed.slice(0, 6).map((r) => `${r.metric}, ${r.group} (p90 ${r.p90_s} s, target ${r.target_s} s)`);
    words.push(`Missed: ${named.join("; ")}${missed.length > 6 ? `; and ${missed.length - 6} more` : ""}.`);
  }
  words.push("Full figures in the table below.");
  return words.join(" ");
}

function resultCell(row) {
  const v = verdict(row);
  if (!v) return el("td", { class: "note" }, "no target");
  // The word carries the meaning; the colour and the mark only repeat it.
  return el("td", { class: v === "met" ? "ok" : "late" },
    el("span", { "aria-hidden": "true" }, v === "met" ? "✓ " : "✗ "), v);
}

function rowsTable(report) {
  const order = (r) => METRICS.indexOf(r.metric);
  const rows = [...report.rows].sort((a, b) => a.group.localeCompare(b.group) || order(a) - order(b));
  const body = rows.map((r) => el("tr", { class: verdict(r) === "missed" ? "missed" : null },
    el("th", { scope: "row" }, r.group), el("td", {}, r.metric), el("td", { class: "num" }, String(r.count)),
    ...[r.p50_s, r.p90_s, r.p95_s].map((v) => el("td", { class: "num" }, seconds(v))),
    el("td", {}, r.standard || "–"),
    el("td", { class: "num" }, r.within_target_pct == null ? "–" : `${r.within_target_pct}%`),
    resultCell(r)));
  if (!body.length) {
    body.push(el("tr", {}, el("td", { colspan: 9, class: "note" }, "No incidents answered in this period.")));
  }
  return table(`Response times by ${report.group_by}`,
    [GROUPS[report.group_by].split(" ")[0], "Measure", "Incidents", "p50", "p90", "p95", "Target", "Within target",
      "Result (p90)"], body, "kpi-rows", [2, 3, 4, 5, 7]);
}

function countsTable(caption, label, counts, whole) {
  const entries = Object.entries(counts).sort((a, b) => b[1] - a[1]);
  const body = entries.map(([name, n]) => el("tr", {}, el("th", { scope: "row" }, name),
    el("td", { class: "num" }, String(n)), el("td", { class: "num" }, percent(n, whole))));
  if (!body.length) body.push(el("tr", {}, el("td", { colspan: 3, class: "note" }, "None.")));
  return table(caption, [label, "Calls", "Share of all calls"], body, "kpi-counts", [1, 2]);
}

// `quiet`: a refresh the live feed asked for; it does not announce "Loading" to screen readers every time.
async function refreshReport({ quiet = false } = {}) {
  if (state.root.hidden) return;  // show() redraws on the next visit
  const { status, chart, caption, rows, outcomes, csv } = state.parts;
  const ticket = ++state.report;
  let query;
  try {
    const p = period();
    query = new URLSearchParams({ since_us: String(p.since_us), until_us: String(p.until_us),
      group_by: state.form.group_by.value }).toString();
  } catch (error) {
    status.className = "bad"; status.textContent = error.message; return;
  }
  if (!quiet) { status.className = "note"; status.textContent = "Loading the report…"; }
  try {
    const report = await state.api(`/api/dispatch/kpis?${query}`);
    if (ticket !== state.report) return;
    const calls = Object.values(report.calls_by_outcome).reduce((a, b) => a + b, 0);
    chart.hidden = false;
    chart.alt = summary(report);
    chart.src = `/api/dispatch/kpis.svg?${query}`;
    caption.textContent = summary(report);
    caption.setAttribute("aria-hidden", "true");
    rows.replaceChildren(rowsTable(report));
    outcomes.replaceChildren(
      countsTable("Calls by outcome", "Outcome", report.calls_by_outcome, calls),
      countsTable("Misuse by kind", "Kind", report.misuse_by_kind, calls));
    csv.href = `/api/dispatch/kpis.csv?${query}`;
    csv.hidden = false;
    status.textContent = `${dateTime(report.since_us)} to ${dateTime(report.until_us)} UTC: ${calls} calls, ` +
      `${report.rows.length} measures by ${report.group_by}.`;
  } catch (error) {
    if (ticket !== state.report) return;
    status.className = "bad"; status.textContent = `The report could not be loaded: ${error.message}`;
  }
}

function loadRow(code, name, incidents, units) {
  const mine = incidents.filter((i) => i.centre === code);
  const fleet = units.filter((u) => u.centre === code);
  const available = fleet.filter((u) => u.status === "available").length;
  const busy = fleet.filter((u) => BUSY.has(u.status)).length;
  // Open work and nobody free is the state a supervisor must not miss: said in words, not only in red.
  const short = mine.length > 0 && available === 0;
  return el("tr", { dataset: { centre: code }, class: short ? "short" : null },
    el("th", { scope: "row" }, name, name !== code ? el("span", { class: "note" }, ` (${code})`) : null),
    ...OPEN.map(([s]) => el("td", { class: "num" }, String(mine.filter((i) => i.status === s).length))),
    el("td", { class: "num total" }, String(mine.length)),
    el("td", { class: short ? "num late" : "num" }, String(available), short ? " – none free" : ""),
    el("td", { class: "num" }, String(busy)),
    el("td", { class: "num" }, String(fleet.filter((u) => u.status === "off-duty").length)));
}

async function refreshLoad() {
  if (state.root.hidden) return;
  const { load, loadStatus } = state.parts;
  const ticket = ++state.load;
  try {
    const [centres, incidents, units] = await Promise.all([state.api("/api/centres"),
      state.api("/api/dispatch/incidents"), state.api("/api/dispatch/units")]);
    if (ticket !== state.load) return;
    const names = new Map(centres.map((c) => [c.code, c.name]));
    for (const x of [...incidents, ...units]) if (!names.has(x.centre)) names.set(x.centre, x.centre);
    const body = [...names].map(([code, name]) => loadRow(code, name, incidents, units));
    load.replaceChildren(
      el("thead", {},
        el("tr", {}, el("td"), el("th", { scope: "colgroup", colspan: 5 }, "Open incidents"),
          el("th", { scope: "colgroup", colspan: 3 }, "Units")),
        el("tr", {}, el("th", { scope: "col" }, "Centre"),
          ...OPEN.map(([, label]) => el("th", { scope: "col", class: "num" }, label)),
          ...["Total", "Available", "Busy", "Off duty"].map((h) => el("th", { scope: "col", class: "num" }, h)))),
      el("tbody", {}, body));
    loadStatus.className = "note";
    loadStatus.textContent = `Updated ${time(Date.now() * 1000)} UTC; follows the live feed.`;
  } catch (error) {
    if (ticket !== state.load) return;
    loadStatus.className = "bad"; loadStatus.textContent = `Centre load could not be loaded: ${error.message}`;
  }
}

function controls() {
  const windowSelect = el("select", { name: "span" },
    Object.entries(WINDOWS).map(([value, [label]]) => el("option", { value, selected: value === "24h" }, label)));
  const group = el("select", { name: "group_by" },
    Object.entries(GROUPS).map(([value, label]) => el("option", { value }, label)));
  const now = Date.now();
  const custom = el("span", { class: "custom", hidden: true },
    el("label", {}, "From (UTC) ",
      el("input", { type: "datetime-local", name: "from", value: utcInput(now - 86_400_000) })),
    el("label", {}, "To (UTC) ", el("input", { type: "datetime-local", name: "to", value: utcInput(now) })));
  const form = el("form", { class: "kpi-controls", "aria-label": "Report options" },
    el("label", {}, "Period ", windowSelect), custom, el("label", {}, "Group by ", group),
    el("button", { type: "submit" }, "Show report"));
  windowSelect.addEventListener("change", () => {
    custom.hidden = windowSelect.value !== "custom";
    if (custom.hidden) refreshReport(); else form.from.focus();
  });
  group.addEventListener("change", () => refreshReport());
  form.addEventListener("submit", (event) => { event.preventDefault(); refreshReport(); });
  return form;
}

export async function mount(root, { api, on }) {
  stylesheet();
  state.root = root;
  state.api = api;
  state.form = controls();
  const chart = el("img", { class: "kpi-chart", alt: "", hidden: true });
  // The caption shows sighted users the same summary the alt text gives; screen readers hear it once, as the alt.
  const caption = el("figcaption", { class: "note", "aria-hidden": "true" });
  chart.addEventListener("error", () => {
    if (!chart.getAttribute("src")) return;
    caption.textContent = "The chart could not be loaded; the table holds the same figures.";
    caption.removeAttribute("aria-hidden");  // no longer a repeat of the alt text: everyone should hear it
  });
  state.parts = {
    status: el("p", { role: "status", id: "kpi-status", class: "note" }),
    loadStatus: el("p", { role: "status", class: "note" }),
    load: el("table", { class: "kpi-load", "aria-labelledby": "kpi-load-title" }),
    chart, caption, rows: el("div", { class: "scroll" }), outcomes: el("div", { class: "kpi-counts-grid" }),
    csv: el("a", { class: "csv", download: "", hidden: true }, "Download these figures as CSV"),
  };
  const p = state.parts;
  root.append(
    el("h2", {}, "Supervisor"),
    el("section", { "aria-labelledby": "kpi-load-title" },
      el("h3", { id: "kpi-load-title" }, "Centre load now"), p.load, p.loadStatus),
    el("section", { "aria-labelledby": "kpi-report-title" },
      el("h3", { id: "kpi-report-title" }, "Response times against the standards"),
      state.form, p.status,
      el("figure", { class: "kpi-figure" }, chart, caption),
      p.rows, p.outcomes, el("p", {}, p.csv)),
  );
  const load = coalesce(refreshLoad, LOAD_WAIT_MS);
  // A custom period stays as the supervisor set it (they may be comparing); "Show report" refreshes it.
  const report = coalesce(() => {
    if (state.form.span.value !== "custom") refreshReport({ quiet: true });
  }, REPORT_WAIT_MS);
  on("incident", () => { load(); report(); });
  on("unit", load);
  on("resync", () => { refreshLoad(); refreshReport({ quiet: true }); });
}

// Each visit redraws: a relative window ("last hour") has moved on, and events may have come while hidden.
export async function show() {
  await Promise.all([refreshLoad(), refreshReport()]);
}
