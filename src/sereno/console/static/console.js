// The console's entry module: login, the session's identity, centres, the camera wall and (for auditors)
// the audit log.
import { showWall } from "/static/wall.js";

const $ = (id) => document.getElementById(id);

async function api(path, options = {}) {
  const response = await fetch(path, { credentials: "same-origin", ...options,
    headers: { "content-type": "application/json", ...(options.headers || {}) } });
  const body = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) throw Object.assign(new Error(body?.detail || body?.title || response.statusText), { response });
  return body;
}

function cell(row, text) { const td = document.createElement("td"); td.textContent = text; row.append(td); }

async function showHome(me) {
  $("login").hidden = true;
  $("home").hidden = false;
  $("logout").hidden = false;
  $("who").textContent = `${me.username} · ${me.role} · ${me.centres ? me.centres.join(", ") : "all centres"}`;
  const centres = await api("/api/centres");
  $("centres").replaceChildren(...centres.map((c) => {
    const li = document.createElement("li"); li.textContent = `${c.name} (${c.code})`; return li;
  }));
  if (me.permissions.includes("video:view")) {
    await showWall(api, $("wall"));
  }
  if (me.permissions.includes("audit:read")) {
    $("audit-panel").hidden = false;
    const rows = await api("/api/audit/entries?limit=50");
    $("audit-rows").replaceChildren(...rows.map((e) => {
      const tr = document.createElement("tr");
      [e.seq, new Date(e.ts_us / 1000).toISOString().slice(0, 19), e.actor, e.action, e.centre, e.outcome]
        .forEach((v) => cell(tr, String(v)));
      return tr;
    }));
    if (me.permissions.includes("audit:verify")) {
      const status = await api("/api/audit/verify");
      $("audit-status").textContent = status.ok
        ? `Chain verified: ${status.entries} entries, ${status.checkpoints} signed checkpoints.`
        : `Chain BROKEN at entry ${status.first_bad_seq}: ${status.problem}`;
      $("audit-status").className = status.ok ? "ok" : "bad";
    } else {
      $("audit-status").textContent = "Verification is shown to auditors.";
    }
  }
}

$("login").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  try {
    const me = await api("/api/auth/login", { method: "POST",
      body: JSON.stringify({ username: form.get("username"), password: form.get("password") }) });
    $("login-error").textContent = "";
    await showHome(me);
  } catch (error) {
    $("login-error").textContent = error.message;
  }
});

$("logout").addEventListener("click", async () => {
  await api("/api/auth/logout", { method: "POST" }).catch(() => null);
  location.reload();
});

api("/api/auth/me").then(showHome).catch(() => { $("login").hidden = false; });
