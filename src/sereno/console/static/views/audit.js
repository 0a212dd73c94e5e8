// The audit view: the latest entries of the append-only log, and (for auditors) whether the hash chain and
// its signed checkpoints verify.
import { el, dateTime } from "/static/api.js";

export async function mount(root, { api, me }) {
  const status = el("p", { id: "audit-status", role: "status" }, "checking...");
  const body = el("tbody");
  root.append(
    el("h2", {}, "Audit log"),
    status,
    el("table", {}, el("thead", {}, el("tr", {}, ...["#", "time (UTC)", "actor", "action", "target", "centre", "outcome"]
      .map((h) => el("th", { scope: "col" }, h)))), body),
  );
  const rows = await api("/api/audit/entries?limit=50");
  body.replaceChildren(...rows.map((e) => el("tr", {},
    ...[e.seq, dateTime(e.ts_us), e.actor, e.action, e.target, e.centre, e.outcome].map((v) => el("td", {}, String(v ?? ""))))));
  if (me.permissions.includes("audit:verify")) {
    const result = await api("/api/audit/verify");
    status.textContent = result.ok
      ? `Chain verified: ${result.entries} entries, ${result.checkpoints} signed checkpoints.`
      : `Chain BROKEN at entry ${result.first_bad_seq}: ${result.problem}`;
    status.className = result.ok ? "ok" : "bad";
  } else {
    status.textContent = "Verification is shown to auditors.";
  }
}
