// The console's entry module: login, the session's identity, navigation between views, the live feed.
// Each view is a module in /static/views/ exporting `mount(root, ctx)`, loaded the first time it is
// opened; the navigation shows only the views the user's role may use.
import { api, post } from "/static/api.js";
import { connect, on } from "/static/live.js";

const $ = (id) => document.getElementById(id);

// view -> [label, permission needed]; the order is the navigation's.
const VIEWS = {
  wall: ["Camera wall", "video:view"],
  alerts: ["Alerts", "alerts:read"],
  map: ["Map", "incidents:read"],
  calls: ["Take a call", "calls:take"],
  board: ["Incidents", "incidents:read"],
  kpis: ["Supervisor", "kpis:read"],
  audit: ["Audit", "audit:read"],
};
// Pages reached from a view rather than from the navigation: page -> the view that leads there.
const PAGES = { incident: ["board", "Incident"], camera: ["wall", "Camera"] };
const mounted = new Map();
let ctx = null;
let current = null;

function allowed(me) {
  return Object.keys(VIEWS).filter((name) => me.permissions.includes(VIEWS[name][1]));
}

async function show(route) {
  const [name, ...rest] = route.replace(/^#\/?/, "").split("/");
  const views = allowed(ctx.me);
  const view = PAGES[name] && views.includes(PAGES[name][0]) ? name : views.includes(name) ? name : views[0];
  if (!view) { $("no-views").hidden = false; return; }
  if (current && current !== view) mounted.get(current)?.then((m) => m.hide?.()); // a hidden view stops its streams
  current = view;
  for (const section of document.querySelectorAll("main > section[data-view]")) {
    section.hidden = section.dataset.view !== view;
  }
  for (const link of document.querySelectorAll("#nav a")) {
    link.toggleAttribute("aria-current", link.dataset.view === (PAGES[view]?.[0] ?? view));
  }
  const root = document.querySelector(`section[data-view="${view}"]`);
  // The promise is kept at once, so a second navigation while the module loads waits for the same mount
  // instead of mounting the view twice.
  if (!mounted.has(view)) {
    mounted.set(view, import(`/static/views/${view}.js`).then(async (module) => { await module.mount(root, ctx); return module; }));
  }
  document.title = `Sereno · ${PAGES[view]?.[1] ?? VIEWS[view][0]}`;
  const module = await mounted.get(view);
  await module.show?.(root, ctx, rest.map(decodeURIComponent));
}

async function start(me) {
  ctx = { api, post, me, on, go: (route) => { location.hash = route; } };
  $("login").hidden = true;
  $("logout").hidden = false;
  $("who").textContent = `${me.username} · ${me.role} · ${me.centres ? me.centres.join(", ") : "all centres"}`;
  $("nav").replaceChildren(...allowed(me).map((name) => {
    const link = document.createElement("a");
    link.href = `#/${name}`; link.dataset.view = name; link.textContent = VIEWS[name][0];
    return link;
  }));
  // A view with no section in index.html gets one here, so adding a view takes one line in VIEWS.
  for (const name of allowed(me).filter((n) => !document.querySelector(`section[data-view="${n}"]`))) {
    const section = document.createElement("section");
    section.hidden = true; section.dataset.view = name; section.setAttribute("aria-label", VIEWS[name][0]);
    $("main").append(section);
  }
  // The open-alert count in the navigation, whichever view the user starts on.
  if (allowed(me).includes("alerts")) import("/static/views/alerts.js").then((m) => m.countInNav(ctx)).catch(() => null);
  connect((state) => { $("live-state").textContent = state; $("live-state").className = `badge ${state}`; });
  window.addEventListener("hashchange", () => show(location.hash));
  await show(location.hash);
}

$("login").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  try {
    const me = await post("/api/auth/login", { username: form.get("username"), password: form.get("password") });
    $("login-error").textContent = "";
    await start(me);
  } catch (error) {
    $("login-error").textContent = error.message;
  }
});

$("logout").addEventListener("click", async () => {
  await post("/api/auth/logout", {}).catch(() => null);
  location.hash = "";
  location.reload();
});

api("/api/auth/me").then(start).catch(() => { $("login").hidden = false; $("login").querySelector("input").focus(); });
