// The map: the user's centres drawn from the city's own geometry (or on a basemap, when one is configured and
// answers), with cameras, units moving live, open incidents and the alerts still to handle, at their camera.
// Everything drawn is also in the side list as a button that pans to it: a map alone cannot be used by
// keyboard or screen reader, the list can. The list comes first in the page so Tab reaches it before the
// map's markers. Colour is never the only cue: every status and priority is also written out.
import * as L from "/static/leaflet/leaflet-src.esm.js";
import { el } from "/static/api.js";

const UNIT_STATUSES = ["available", "dispatched", "en-route", "on-scene", "returning", "off-duty"];
const FOCUS_ZOOM = 15;
// Tiles that have not started arriving by then are taken as unreachable (an offline centre, a LAN tile
// server that is down): the map falls back to the city's outlines rather than staying grey.
const TILE_PATIENCE_MS = 8000;

let state = null; // the view is mounted once per page: one map, its layers and what they show

// The alerts layer: open and acknowledged alerts (the ones still someone's to handle) beside the camera that
// raised them, for users who may read alerts; filled from /api/alerts and kept current by `alert` events.
export function alertsLayer() {
  return state?.layers.alerts ?? null;
}

export async function mount(root, ctx) {
  root.id = "map";
  await stylesheet("/static/views/map.css");
  const mayAlerts = ctx.me.permissions.includes("alerts:read");
  if (mayAlerts) await stylesheet("/static/views/alerts.css"); // the alert marks' look lives with the queue's
  const status = el("p", { class: "note", role: "status", id: "map-status" });
  const lists = {
    units: el("ul", { class: "items", id: "map-units" }),
    incidents: el("ul", { class: "items", id: "map-incidents" }),
    cameras: el("ul", { class: "items", id: "map-cameras" }),
    alerts: el("ul", { class: "items", id: "map-alerts" }),
  };
  const counts = { units: el("span"), incidents: el("span"), cameras: el("span"), alerts: el("span") };
  const canvas = el("div", { class: "canvas", role: "region", "aria-label": "Map. Arrow keys pan, plus and minus zoom; the list beside it has everything shown" });
  root.append(el("div", { class: "layout" },
    el("aside", { class: "side", "aria-labelledby": "map-title" },
      el("h2", { id: "map-title" }, "Map"), status,
      mayAlerts && [el("h3", {}, "Alerts ", counts.alerts), lists.alerts],
      el("h3", {}, "Units ", counts.units), lists.units,
      el("h3", {}, "Open incidents ", counts.incidents), lists.incidents,
      el("h3", {}, "Cameras ", counts.cameras), lists.cameras,
      legend(mayAlerts)),
    canvas));

  const map = L.map(canvas, { zoomSnap: 0.5, minZoom: 3, maxZoom: 19 });
  map.attributionControl.setPrefix("Leaflet");
  const layers = {
    jurisdictions: L.layerGroup(), streets: L.layerGroup(), cameras: L.layerGroup(),
    units: L.layerGroup(), incidents: L.layerGroup(), alerts: L.layerGroup(),
  };
  state = { root, ctx, map, layers, lists, counts, status, mayAlerts, units: new Map(), incidents: new Map(), cameras: new Map(),
    alerts: new Map() };
  map.createPane("labels").style.zIndex = "450"; // above the areas and streets, under every marker

  const geo = await ctx.api("/api/centres/geo").catch(() => ({ features: [], tile_url: null, tile_attribution: "" }));
  drawCity(geo.features);
  const streets = geo.features.some((f) => f.properties.kind === "streets") ? { Streets: layers.streets } : {};
  const overlays = { Jurisdictions: layers.jurisdictions, ...streets, Cameras: layers.cameras, Units: layers.units,
    Incidents: layers.incidents, ...(mayAlerts ? { Alerts: layers.alerts } : {}) };
  for (const layer of Object.values(overlays)) layer.addTo(map);
  L.control.layers(basemap(geo), overlays, { collapsed: false }).addTo(map);

  // Subscribed before the first load, so nothing that happens while it is under way is missed.
  ctx.on("unit", (u) => placeUnit({ ...state.units.get(u.callsign)?.data, ...u }));
  ctx.on("incident", (i) => placeIncident({ ...state.incidents.get(i.incident_id)?.data, ...i, id: i.incident_id }));
  ctx.on("camera-moved", (c) => { const known = state.cameras.get(c.camera_id); if (known) placeCamera({ ...known.data, ...c }); });
  ctx.on("camera", () => loadCameras());
  // A raised alert is new and open; a change carries no title or camera, so it is merged into the known one.
  if (mayAlerts) ctx.on("alert", (a) => placeAlert({ status: "open", ...state.alerts.get(a.alert_id)?.data, ...a, id: a.alert_id }));
  ctx.on("resync", () => reload());
  await reload();
  fit();
}

export function show() {
  state?.map.invalidateSize(); // the section was hidden while another view was open: sizes are stale
}

// ---- the city: jurisdictions, centres, streets, basemap ---------------------------------------------------

function drawCity(features) {
  const { layers } = state;
  for (const feature of features) {
    const { kind, centre, name } = feature.properties;
    if (kind === "streets") {
      L.geoJSON(feature, { interactive: false, style: { className: "street", weight: 1.5 } }).addTo(layers.streets);
    } else if (kind === "jurisdiction") {
      const area = L.geoJSON(feature, { interactive: false, style: { className: "jurisdiction", weight: 2, fillOpacity: 0.07 } });
      area.addTo(layers.jurisdictions);
      // Along the area's top edge, not its middle, where incidents and units tend to be.
      const box = area.getBounds();
      label([box.getNorth(), box.getCenter().lng], el("span", { class: "area-label", dataset: { centre } }, name));
    } else if (kind === "centre") {
      const [lon, lat] = feature.geometry.coordinates;
      label([lat, lon], el("span", { class: "centre-mark", title: name, "aria-hidden": "true" }));
    }
  }
}

function label(latlng, element) {
  const icon = L.divIcon({ html: element, className: "map-label", iconSize: null });
  L.marker(latlng, { icon, pane: "labels", interactive: false, keyboard: false }).addTo(state.layers.jurisdictions);
}

// Base layers for the control: the tile server when configured (with the outlines-only map as the other
// choice, useful on a wall), nothing to choose otherwise. Unreachable tiles switch to the outlines by themselves.
function basemap(geo) {
  const { map, root } = state;
  const outlines = L.layerGroup().addTo(map);
  root.dataset.basemap = "outlines";
  if (!geo.tile_url) {
    say("No basemap configured: the city's own outlines are drawn.");
    return null;
  }
  const tiles = L.tileLayer(geo.tile_url, { attribution: escapeText(geo.tile_attribution || ""), maxZoom: 19 });
  let arrived = 0;
  const giveUp = () => {
    if (arrived || !map.hasLayer(tiles)) return;
    map.removeLayer(tiles); map.addLayer(outlines);
    root.dataset.basemap = "outlines";
    say("The tile server does not answer: the city's own outlines are drawn instead.");
  };
  tiles.on("tileload", () => { arrived += 1; root.dataset.basemap = "tiles"; });
  tiles.on("load", giveUp); // every visible tile settled; none arrived means all failed
  map.removeLayer(outlines); tiles.addTo(map);
  setTimeout(giveUp, TILE_PATIENCE_MS);
  return { "Tile map": tiles, "Outlines only": outlines };
}

function fit() {
  const { map, layers } = state;
  let bounds = L.latLngBounds([]);
  for (const layer of layers.jurisdictions.getLayers()) bounds.extend(layer.getBounds?.() ?? layer.getLatLng());
  if (!bounds.isValid()) {
    const points = [...state.units.values(), ...state.incidents.values(), ...state.cameras.values()].map((e) => e.marker.getLatLng());
    bounds = points.length ? L.latLngBounds(points) : null;
  }
  if (bounds?.isValid()) map.fitBounds(bounds, { padding: [24, 24], maxZoom: FOCUS_ZOOM });
  else map.setView([0, 0], 3);
}

// ---- what moves: units, incidents, cameras ----------------------------------------------------------------

async function reload() {
  const { api } = state.ctx;
  const [units, incidents] = await Promise.all([api("/api/dispatch/units").catch(() => []), api("/api/dispatch/incidents").catch(() => [])]);
  sync("units", units.map((u) => u.callsign));
  sync("incidents", incidents.map((i) => i.id));
  units.forEach(placeUnit);
  incidents.forEach(placeIncident);
  await loadCameras();
  if (state.mayAlerts) await loadAlerts(); // after the cameras: an alert is drawn at its camera
}

async function loadCameras() {
  const cameras = await state.ctx.api("/api/cameras").catch(() => []);
  sync("cameras", cameras.map((c) => c.id));
  for (const c of cameras) placeCamera({ camera_id: c.id, name: c.name, kind: c.kind, lat: c.lat, lon: c.lon, heading_deg: c.heading_deg });
}

function placeUnit(u) {
  const entry = upsert("units", u.callsign, u, () => {
    const mark = el("span", { class: "unit-mark", dataset: { callsign: u.callsign } }, el("span", { class: "dot" }), el("span", { class: "tag" }, u.callsign));
    return { mark, icon: L.divIcon({ html: mark, className: "unit", iconSize: [18, 18] }), title: u.callsign };
  });
  Object.assign(entry.mark.dataset, { status: u.status, lat: String(u.lat), lon: String(u.lon) });
  entry.describe(`${u.callsign}, ${u.agency}, ${u.status}`);
  entry.button.replaceChildren(el("span", { class: "swatch", dataset: { status: u.status } }), `${u.callsign} · ${u.agency} · ${u.status}`);
  entry.extra.replaceChildren(...(u.incident_id ? [incidentLink(u.incident_id, "incident")] : []));
}

function placeIncident(i) {
  if (i.status === "closed") { drop("incidents", i.id); return; }
  const entry = upsert("incidents", i.id, i, () => {
    const mark = el("span", { class: "incident-mark", dataset: { incident: i.id } });
    return { mark, icon: L.divIcon({ html: mark, className: "incident", iconSize: [24, 24] }), title: i.type_code };
  });
  entry.mark.dataset.priority = String(i.priority);
  entry.mark.textContent = String(i.priority);
  const words = `P${i.priority} ${i.type_code} · ${i.status}`;
  entry.describe(`Incident ${words}${i.address ? `, ${i.address}` : ""}`);
  entry.button.replaceChildren(el("span", { class: "swatch", dataset: { priority: String(i.priority) } }), words);
  entry.extra.replaceChildren(incidentLink(i.id, "open"));
}

function placeCamera(c) {
  const entry = upsert("cameras", c.camera_id, c, () => {
    const mark = el("span", { class: "camera-mark", dataset: { camera: c.camera_id } }, el("span", { class: "beam" }));
    return { mark, icon: L.divIcon({ html: mark, className: "camera", iconSize: [22, 22] }), title: c.name };
  });
  entry.mark.querySelector(".beam").style.transform = `rotate(${Number(c.heading_deg) || 0}deg)`;
  entry.describe(`Camera ${c.name}, facing ${Math.round(c.heading_deg)}°`);
  entry.button.replaceChildren(c.name);
}

async function loadAlerts() {
  const alerts = await state.ctx.api("/api/alerts?status=active&limit=1000").catch(() => []);
  sync("alerts", alerts.map((a) => a.id));
  alerts.forEach(placeAlert);
}

// Beside its camera (up and to the right, so both stay visible and clickable); an alert with no camera (a
// centre-wide one) has no place on the map and is left to the queue.
function placeAlert(a) {
  const camera = state.cameras.get(a.camera_id)?.data;
  if (!camera || !["open", "acknowledged"].includes(a.status)) { drop("alerts", a.id); return; }
  const entry = upsert("alerts", a.id, { ...a, lat: camera.lat, lon: camera.lon, camera: camera.name }, () => {
    const mark = el("span", { class: "alert-mark", dataset: { alert: a.id } }, "!");
    return { mark, icon: L.divIcon({ html: mark, className: "alert", iconSize: [22, 22], iconAnchor: [-4, 28] }), title: a.title };
  });
  entry.marker.setZIndexOffset(1000);
  Object.assign(entry.mark.dataset, { severity: a.severity, status: a.status });
  const words = `${a.severity} · ${a.title} · ${a.status}`;
  entry.describe(`Alert, ${words}, camera ${camera.name}`);
  entry.button.replaceChildren(el("span", { class: "swatch", dataset: { severity: a.severity } }), words);
  entry.extra.replaceChildren(el("a", { href: alertHref(a.id), "aria-label": `Open alert ${a.title} in the queue` }, "open"));
}

const alertHref = (id) => `#/alerts/${encodeURIComponent(id)}`;

// One thing on the map and in the list: created on first sight, moved and redescribed on every update. Items
// are updated in place (never rebuilt) so a keyboard user's focus stays where it was while units move.
function upsert(kind, key, data, create) {
  const { layers, lists } = state;
  let entry = state[kind].get(key);
  if (!entry) {
    const made = create();
    const marker = L.marker([data.lat, data.lon], { icon: made.icon, title: made.title, riseOnHover: true });
    const button = el("button", { type: "button", class: "secondary", onclick: () => focusOn(kind, key) });
    const item = el("li", { dataset: { [kind.slice(0, -1)]: key } }, button, el("span", { class: "extra" }));
    entry = { data, marker, item, button, extra: item.lastChild, mark: made.mark, text: made.title };
    entry.describe = (text) => { entry.text = text; entry.marker.getElement()?.setAttribute("aria-label", text); };
    marker.on("add", () => marker.getElement().setAttribute("aria-label", entry.text));
    marker.bindPopup(() => popup(kind, state[kind].get(key).data));
    marker.addTo(layers[kind]);
    state[kind].set(key, entry);
    const after = [...lists[kind].children].find((li) => sortKey(kind, state[kind].get(li.dataset[kind.slice(0, -1)])?.data) > sortKey(kind, data));
    lists[kind].insertBefore(item, after ?? null);
  }
  entry.data = data;
  entry.marker.setLatLng([data.lat, data.lon]);
  if (entry.marker.isPopupOpen()) entry.marker.setPopupContent(popup(kind, data));
  count(kind);
  return entry;
}

function drop(kind, key) {
  const entry = state[kind].get(key);
  if (!entry) return;
  entry.marker.remove();
  entry.item.remove();
  state[kind].delete(key);
  count(kind);
}

function count(kind) { state.counts[kind].textContent = `(${state[kind].size})`; }

// Forget what the server no longer lists (after a resync, a closed incident, a camera taken out).
function sync(kind, keys) {
  const keep = new Set(keys);
  for (const key of [...state[kind].keys()]) if (!keep.has(key)) drop(kind, key);
  count(kind); // "(0)" too: an empty list should say so
}

function sortKey(kind, data) {
  if (!data) return "";
  if (kind === "alerts") return String(1e17 - data.first_us).padStart(18, "0"); // newest first
  return kind === "incidents" ? `${data.priority}-${data.id}` : kind === "units" ? data.callsign : data.name;
}

function focusOn(kind, key) {
  const { map, layers } = state;
  const entry = state[kind].get(key);
  if (!entry) return;
  if (!map.hasLayer(layers[kind])) map.addLayer(layers[kind]); // asked for it: show it even if switched off
  map.setView(entry.marker.getLatLng(), Math.max(map.getZoom(), FOCUS_ZOOM));
  entry.marker.openPopup();
}

function popup(kind, d) {
  if (kind === "units") {
    return el("div", { class: "map-popup" }, el("strong", {}, d.callsign), el("div", {}, `${d.agency} · ${d.status}`),
      d.incident_id ? el("div", {}, "On ", incidentLink(d.incident_id, d.incident_id)) : el("div", {}, "Not on an incident"));
  }
  if (kind === "incidents") {
    return el("div", { class: "map-popup" }, el("strong", {}, `P${d.priority} ${d.type_code}`), el("div", {}, d.status),
      d.address ? el("div", {}, d.address) : null, incidentLink(d.id, "Open the incident"));
  }
  if (kind === "alerts") {
    return el("div", { class: "map-popup" }, el("strong", {}, d.title), el("div", {}, `${d.severity} · ${d.status}`),
      el("div", {}, `Camera ${d.camera}`), el("a", { href: alertHref(d.id) }, "Open in the alert queue"));
  }
  const wall = state.ctx.me.permissions.includes("video:view");
  return el("div", { class: "map-popup" }, el("strong", {}, d.name), el("div", {}, `${d.kind ?? "camera"} · facing ${Math.round(d.heading_deg)}°`),
    wall ? el("a", { href: "#/wall" }, "Camera wall") : null);
}

// `text` may be short ("open") in the list; the link's name still says which incident it opens.
const incidentLink = (id, text) => el("a", { href: `#/incident/${encodeURIComponent(id)}`,
  "aria-label": text === id ? null : `Open incident ${id}` }, text);

// ---- small things -----------------------------------------------------------------------------------------

function legend(mayAlerts) {
  return el("details", { class: "legend" }, el("summary", {}, "Legend"),
    el("ul", {}, ...UNIT_STATUSES.map((s) => el("li", {}, el("span", { class: "swatch", dataset: { status: s } }), `unit ${s}`)),
      ...[1, 2, 3, 4, 5].map((p) => el("li", {}, el("span", { class: "swatch", dataset: { priority: String(p) } }), `incident priority ${p}`)),
      ...(mayAlerts ? ["critical", "warning", "info"] : []).map((s) => el("li", {}, el("span", { class: "swatch", dataset: { severity: s } }), `alert ${s} (!)`))));
}

function say(text) { state.status.textContent = text; }

// Leaflet writes attributions as HTML; the configured one is text, so it is escaped before Leaflet sees it.
function escapeText(text) {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function stylesheet(href) {
  if (document.querySelector(`link[href="${href}"]`)) return Promise.resolve();
  return new Promise((resolve) => {
    // Leaflet measures its container when created: wait for the sheet that gives it a height.
    document.head.append(el("link", { rel: "stylesheet", href, onload: resolve, onerror: resolve }));
  });
}
