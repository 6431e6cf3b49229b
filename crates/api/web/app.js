// The shadowfleet map: events, cargo flows and dark gaps drawn along the sea, the tanker
// activity of the day in hexagonal cells, a vessel search, a vessel panel (timeline of its
// events, identity timeline, list matches, risk with the evidence behind each indicator) with
// its track coloured by time, a time slider, a risk leaderboard, the exposure by country and
// month, the origin → STS → destination flow view, a URL that holds the view, an image
// export with legend, scale, sources and the data's dates, and (under `watch --serve`) the
// live positions and alerts. Plain JavaScript over the JSON API
// (docs/api.md); no build step.
"use strict";

// Okabe & Ito's colour-blind-safe palette for the event kinds; a kind added later gets one of
// the remaining colours.
const COLORS = {
  gap: "#D55E00",
  encounter: "#CC79A7",
  loitering: "#E69F00",
  port_call: "#009E73",
  spoofing: "#56B4E9",
  identity_change: "#999999",
  zone: "#F0E442",
  interference: "#000000",
};
const PALETTE = ["#0072B2", "#882255", "#44AA99", "#332288"];
// Flows: direct in blue, through STS in wine (Tol's muted palette, also colour-blind safe).
const FLOW_DIRECT = "#0072B2";
const FLOW_STS = "#882255";
// Time along a track and activity intensity: viridis (perceptually uniform, colour-blind safe).
const VIRIDIS = ["#440154", "#3b528b", "#21918c", "#5ec962", "#fde725"];
// Event kind → colour, for every kind the server's OpenAPI description lists
// (`components.schemas.EventKind.enum`, generated from the Rust enum).
const KINDS = {};
const DAY = 86400;

async function loadKinds() {
  const spec = await api("/api/openapi.json");
  const kinds = spec.components.schemas.EventKind.enum;
  let extra = 0;
  for (const k of kinds) KINDS[k] = COLORS[k] || PALETTE[extra++ % PALETTE.length];
}

const state = {
  events: [], flows: [], t0: 0, t1: 0, highlight: null, track: null, vessel: null,
  hidden: new Set(), gaps: null, flowGeo: null, activityDay: null, about: null, selected: null,
  restoring: false,
};

function sliderTime() {
  return state.t0 + (state.t1 - state.t0) * (document.getElementById("time").value / 1000);
}

function setSliderTime(t) {
  const span = Math.max(state.t1 - state.t0, 1);
  document.getElementById("time").value = String(Math.round(Math.min(Math.max((t - state.t0) / span, 0), 1) * 1000));
}

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "onclick") e.addEventListener("click", v);
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

// A row a keyboard can reach: Tab focuses it, Enter or Space activates it, the arrow keys
// move to the row above or below.
function keyRow(e, activate) {
  e.setAttribute("tabindex", "0");
  e.setAttribute("role", "option");
  e.addEventListener("click", activate);
  e.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" || ev.key === " ") {
      ev.preventDefault();
      activate();
    } else if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
      ev.preventDefault();
      const next = ev.key === "ArrowDown" ? e.nextElementSibling : e.previousElementSibling;
      if (next && next.getAttribute("tabindex") === "0") next.focus();
    }
  });
  return e;
}

async function api(path) {
  const r = await fetch(path);
  const body = await r.json();
  if (!r.ok) throw new Error(`${path}: ${body.reason || r.status}`);
  return body;
}

async function allPages(path, key) {
  const out = [];
  for (let offset = 0; ; offset += 1000) {
    const sep = path.includes("?") ? "&" : "?";
    const page = await api(`${path}${sep}limit=1000&offset=${offset}`);
    out.push(...page[key]);
    if (out.length >= page.total || page[key].length === 0) return out;
  }
}

const map = new maplibregl.Map({
  container: "map",
  style: {
    version: 8,
    sources: { land: { type: "geojson", data: "/map/land.geojson" } },
    layers: [
      { id: "sea", type: "background", paint: { "background-color": "#d6e6f0" } },
      { id: "land", type: "fill", source: "land", paint: { "fill-color": "#f2efe9", "fill-outline-color": "#b8b2a7" } },
    ],
  },
  center: [15, 50],
  zoom: 3,
  // The image export reads the canvas back.
  canvasContextAttributes: { preserveDrawingBuffer: true },
});
map.addControl(new maplibregl.NavigationControl(), "top-right");
map.addControl(new maplibregl.ScaleControl({ unit: "nautical" }), "bottom-left");

const EMPTY = { type: "FeatureCollection", features: [] };
// Confidence levels in order: an event is shown when its level is at least the control's.
const LEVELS = { low: 0, medium: 1, high: 2 };

function minLevel() {
  return LEVELS[document.getElementById("confidence").value] || 0;
}

function shown(kind, level, start) {
  return !state.hidden.has(kind) && (LEVELS[level] || 0) >= minLevel() && Date.parse(start) / 1000 <= sliderTime();
}

function eventFeatures() {
  const points = [];
  for (const e of state.events) {
    if (e.lat === null || e.lon === null) continue;
    if (!shown(e.kind, e.confidence.level, e.start)) continue;
    const hl = state.highlight ? state.highlight.has(e.id) : false;
    const props = { id: e.id, kind: e.kind, mmsi: e.mmsi, other: e.other_mmsi || "", start: e.start, end: e.end, confidence: e.confidence.level, why: e.confidence.reasons.join("; "), hl };
    points.push({ type: "Feature", geometry: { type: "Point", coordinates: [e.lon, e.lat] }, properties: props });
  }
  return { type: "FeatureCollection", features: points };
}

// Gap paths (routed at sea by the server) that pass the filters, and a label with the hours
// of each: HTML markers (the basemap has no font server), at most 150 of them.
let gapMarkers = [];
function refreshGaps() {
  if (!state.gaps || !map.getSource("gaps")) return;
  const on = document.getElementById("layer-gaps").checked;
  const feats = on ? state.gaps.features.filter((f) => shown("gap", f.properties.confidence, f.properties.start)) : [];
  const hl = state.highlight;
  for (const f of feats) f.properties.hl = hl ? hl.has(f.properties.id) : false;
  map.getSource("gaps").setData({ type: "FeatureCollection", features: feats });
  for (const m of gapMarkers) m.remove();
  gapMarkers = [];
  const labelled = new Set();
  for (const f of feats) {
    const p = f.properties;
    if (labelled.has(p.id) || !p.label || labelled.size >= 150) continue;
    if (hl && hl.size && !hl.has(p.id)) continue;
    labelled.add(p.id);
    const div = el("div", { class: "gaplabel" }, `${Math.round(p.hours)} h dark`);
    gapMarkers.push(new maplibregl.Marker({ element: div }).setLngLat(p.label).addTo(map));
  }
  document.body.setAttribute("data-gap-labels", String(gapMarkers.length));
}

function refreshEvents() {
  if (!map.getSource("events")) return;
  const events = eventFeatures();
  map.getSource("events").setData(events);
  document.body.setAttribute("data-events-shown", String(events.features.length));
  refreshGaps();
  const until = new Date(sliderTime() * 1000);
  document.getElementById("timelabel").textContent = until.toISOString().slice(0, 16).replace("T", " ") + " UTC";
  refreshTrack();
  refreshActivity();
  saveView();
}

// The selected vessel's track up to the slider's time, each segment coloured by its time
// (viridis, oldest dark), faint after it, the silences between positions of 6 h or more
// dashed, and a marker where the vessel was at that time.
function refreshTrack() {
  const src = (id) => map.getSource(id);
  if (!src("track-past")) return;
  const past = [], future = [], dark = [], head = [];
  const until = sliderTime();
  let latest = null;
  const feats = state.track ? state.track.features : [];
  const start = state.track && state.track.start ? Date.parse(state.track.start) / 1000 : 0;
  const end = state.track && state.track.end ? Date.parse(state.track.end) / 1000 : 1;
  const frac = (t) => (t - start) / Math.max(end - start, 1);
  let prevEnd = null;
  for (const f of feats) {
    const coords = f.geometry.type === "LineString" ? f.geometry.coordinates : [f.geometry.coordinates];
    const times = f.properties.times;
    for (let i = 1; i < coords.length; i++) {
      const seg = { type: "Feature", geometry: { type: "LineString", coordinates: [coords[i - 1], coords[i]] }, properties: { f: frac((times[i - 1] + times[i]) / 2) } };
      if (times[i] - times[i - 1] >= 6 * 3600) dark.push(seg);
      else if (times[i] <= until) past.push(seg);
      else future.push(seg);
    }
    // A new track segment after a silence: the silence dashed.
    if (prevEnd && times[0] - prevEnd.t >= 6 * 3600 && times[0] <= until) {
      dark.push({ type: "Feature", geometry: { type: "LineString", coordinates: [prevEnd.at, coords[0]] }, properties: { f: frac(times[0]) } });
    }
    prevEnd = { t: times[times.length - 1], at: coords[coords.length - 1] };
    let lo = 0, hi = times.length - 1, k = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (times[mid] <= until) { k = mid; lo = mid + 1; } else hi = mid - 1;
    }
    if (k >= 0 && (!latest || times[k] > latest.t)) latest = { t: times[k], at: coords[k], mmsi: f.properties.mmsi };
  }
  if (latest) head.push({ type: "Feature", geometry: { type: "Point", coordinates: latest.at }, properties: { mmsi: latest.mmsi, time: new Date(latest.t * 1000).toISOString() } });
  src("track-past").setData({ type: "FeatureCollection", features: past });
  src("track-future").setData({ type: "FeatureCollection", features: future });
  src("track-dark").setData({ type: "FeatureCollection", features: dark });
  src("track-head").setData({ type: "FeatureCollection", features: head });
  document.body.setAttribute("data-track-head", head.length ? head[0].properties.time : "");
}

function addTrackLayers() {
  for (const id of ["track-future", "track-past", "track-dark", "track-head"]) map.addSource(id, { type: "geojson", data: EMPTY });
  const ramp = ["interpolate", ["linear"], ["get", "f"], 0, VIRIDIS[0], 0.25, VIRIDIS[1], 0.5, VIRIDIS[2], 0.75, VIRIDIS[3], 1, VIRIDIS[4]];
  map.addLayer({ id: "track-future", type: "line", source: "track-future", paint: { "line-color": "#333", "line-width": 1, "line-opacity": 0.3 } }, "events");
  map.addLayer({ id: "track-past", type: "line", source: "track-past", paint: { "line-color": ramp, "line-width": 3 } }, "events");
  map.addLayer({ id: "track-dark", type: "line", source: "track-dark", paint: { "line-color": "#333", "line-width": 2, "line-dasharray": [1.5, 1.5] } }, "events");
  map.addLayer({ id: "track-head", type: "circle", source: "track-head", paint: { "circle-radius": 7, "circle-color": "#ffd700", "circle-stroke-color": "#000", "circle-stroke-width": 2 } });
}

async function loadTrack(id, fit) {
  const t = await api(`/api/vessels/${encodeURIComponent(id)}/track?zoom=10`);
  state.track = t;
  refreshTrack();
  const b = new maplibregl.LngLatBounds();
  for (const f of t.features) {
    const coords = f.geometry.type === "LineString" ? f.geometry.coordinates : [f.geometry.coordinates];
    for (const c of coords) b.extend(c);
  }
  if (fit && !b.isEmpty()) map.fitBounds(b, { padding: 60, maxZoom: 9, duration: 0 });
  document.getElementById("trackinfo").textContent = t.vertices
    ? `Track: ${t.positions.toLocaleString()} positions (${t.vertices.toLocaleString()} drawn), ${t.start.slice(0, 16)} → ${t.end.slice(0, 16)} UTC; colour: time, oldest dark; dashed: 6 h or more unheard`
    : "Track: no stored positions";
  document.body.setAttribute("data-track", String(t.vertices));
}

// An arrow icon for the direction of the flows, drawn here (no sprite server).
function addArrowIcon() {
  const n = 16;
  const c = document.createElement("canvas");
  c.width = n;
  c.height = n;
  const g = c.getContext("2d");
  g.fillStyle = "#fff";
  g.strokeStyle = "#333";
  g.lineWidth = 1.5;
  g.beginPath();
  g.moveTo(3, 3);
  g.lineTo(13, 8);
  g.lineTo(3, 13);
  g.lineTo(6, 8);
  g.closePath();
  g.fill();
  g.stroke();
  map.addImage("arrow", g.getImageData(0, 0, n, n));
}

async function loadEvents() {
  // Every event, whatever its confidence: the controls filter them here.
  state.events = await allPages("/api/events?min_confidence=low", "events");
  state.t0 = Math.min(...state.events.map((e) => Date.parse(e.start) / 1000));
  state.t1 = Math.max(...state.events.map((e) => Date.parse(e.end) / 1000));
  if (!Number.isFinite(state.t0)) { state.t0 = 0; state.t1 = 1; }
  const color = ["match", ["get", "kind"]];
  for (const [k, c] of Object.entries(KINDS)) color.push(k, c);
  color.push("#000");
  map.addSource("activity", { type: "geojson", data: EMPTY });
  map.addLayer({
    id: "activity", type: "fill", source: "activity",
    paint: {
      "fill-color": ["interpolate", ["linear"], ["ln", ["+", 1, ["get", "vessel_hours"]]], 0, VIRIDIS[0], 1, VIRIDIS[1], 2, VIRIDIS[2], 3, VIRIDIS[3], 4.5, VIRIDIS[4]],
      "fill-opacity": 0.45,
      "fill-outline-color": ["case", [">", ["get", "encounters"], 0], "#CC79A7", "rgba(0,0,0,0)"],
    },
  });
  map.addSource("flows", { type: "geojson", data: EMPTY });
  map.addSource("gaps", { type: "geojson", data: EMPTY });
  const width = ["interpolate", ["linear"], ["get", "volume_bbl"], 0, 1, 300000, 2.5, 1000000, 5, 2000000, 8];
  const flowColour = ["case", [">", ["get", "sts_hops"], 0], FLOW_STS, FLOW_DIRECT];
  const legs = ["==", ["get", "role"], "leg"];
  map.addLayer({ id: "flows", type: "line", source: "flows", filter: ["all", legs, ["!=", ["get", "drawn"], "dark"]], layout: { "line-cap": "round", "line-join": "round" }, paint: { "line-color": flowColour, "line-width": width, "line-opacity": 0.7 } });
  map.addLayer({ id: "flows-dark", type: "line", source: "flows", filter: ["all", legs, ["==", ["get", "drawn"], "dark"]], paint: { "line-color": flowColour, "line-width": width, "line-opacity": 0.7, "line-dasharray": [2, 1.5] } });
  addArrowIcon();
  map.addLayer({ id: "flows-arrows", type: "symbol", source: "flows", filter: legs, layout: { "symbol-placement": "line", "symbol-spacing": 120, "icon-image": "arrow", "icon-size": 0.8, "icon-allow-overlap": true, "icon-rotation-alignment": "map" } });
  // STS hand-offs as nodes; loads and discharges as small end marks.
  map.addLayer({ id: "flows-handoffs", type: "circle", source: "flows", filter: ["in", ["get", "role"], ["literal", ["sts", "dark_sts"]]], paint: { "circle-radius": 7, "circle-color": FLOW_STS, "circle-stroke-color": "#fff", "circle-stroke-width": 2 } });
  map.addLayer({ id: "flows-ends", type: "circle", source: "flows", filter: ["in", ["get", "role"], ["literal", ["load", "possible_load", "first_seen_laden", "discharge"]]], paint: { "circle-radius": 3.5, "circle-color": "#fff", "circle-stroke-color": FLOW_DIRECT, "circle-stroke-width": 1.5 } });
  map.addLayer({ id: "gaps", type: "line", source: "gaps", paint: { "line-color": KINDS.gap, "line-width": ["case", ["get", "hl"], 3, 1.5], "line-dasharray": [2, 2] } });
  map.addSource("events", { type: "geojson", data: EMPTY });
  map.addLayer({
    id: "events", type: "circle", source: "events",
    paint: {
      "circle-color": color,
      "circle-radius": ["case", ["get", "hl"], 8, ["==", ["get", "kind"], "encounter"], 6, 4],
      "circle-stroke-color": ["case", ["get", "hl"], "#000", "#fff"],
      "circle-stroke-width": ["case", ["get", "hl"], 2.5, ["==", ["get", "kind"], "encounter"], 2, 0.5],
    },
  });
  // An encounter (STS) is a paired marker: a second dot beside the first, one per ship.
  map.addLayer({
    id: "encounter-pair", type: "circle", source: "events", filter: ["==", ["get", "kind"], "encounter"],
    paint: { "circle-color": KINDS.encounter, "circle-radius": 6, "circle-stroke-color": "#fff", "circle-stroke-width": 2, "circle-translate": [9, 0] },
  }, "events");
  addTrackLayers();
  map.on("click", "events", (ev) => {
    const p = ev.features[0].properties;
    const who = p.other ? `MMSI ${p.mmsi} ↔ ${p.other}` : `MMSI ${p.mmsi}`;
    const box = el("div", {}, el("b", {}, p.kind), ` #${p.id}`, el("br"), who, el("br"), p.start, el("br"), `→ ${p.end}`, el("br"), `confidence ${p.confidence}: ${p.why}`, el("br"), packLink(p.id));
    new maplibregl.Popup().setLngLat(ev.lngLat).setDOMContent(box).addTo(map);
  });
  map.on("click", "gaps", (ev) => {
    const p = ev.features[0].properties;
    const box = el("div", {}, el("b", {}, `gap #${p.id}`), el("br"), `MMSI ${p.mmsi}: ${p.hours} h unheard${p.likely_dark ? " (likely switched off)" : ""}`, el("br"), `${p.start} → ${p.end}`, el("br"), "drawn along the sea lanes between where it went silent and where it came back");
    new maplibregl.Popup().setLngLat(ev.lngLat).setDOMContent(box).addTo(map);
  });
  // The legend: one checkbox per kind (unticked kinds are hidden), the line styles, the ramp.
  const legend = document.getElementById("legend");
  for (const [k, c] of Object.entries(KINDS)) {
    const box = el("input", { type: "checkbox", "data-kind": k });
    box.checked = !state.hidden.has(k);
    box.addEventListener("change", () => {
      if (box.checked) state.hidden.delete(k); else state.hidden.add(k);
      refreshEvents();
    });
    legend.append(el("label", {}, box, el("span", { class: "dot", style: `background:${c}` }), k));
  }
  document.getElementById("linelegend").append(
    el("span", {}, el("span", { class: "swatch", style: `background:${FLOW_DIRECT}` }), "flow, direct"),
    el("span", {}, el("span", { class: "swatch", style: `background:${FLOW_STS}` }), "flow via STS (● hand-off)"),
    el("span", {}, el("span", { class: "swatch", style: `background:repeating-linear-gradient(90deg,${KINDS.gap} 0 4px,transparent 4px 8px)` }), "dark gap, along the sea lanes"),
    el("span", {}, el("span", { class: "ramp" }), " tanker-hours per cell (the day beside the layer's box)"),
  );
}

async function loadLayers() {
  const [flows, gaps] = await Promise.all([api("/api/map/flows?origin=RU"), api("/api/map/gaps")]);
  state.flowGeo = flows;
  state.gaps = gaps;
  map.getSource("flows").setData(flows);
  refreshGaps();
  const legs = flows.features.filter((f) => f.properties.role === "leg").length;
  document.body.setAttribute("data-flow-legs", String(legs));
}

// The activity of the slider's day: fetched when the day changes.
let activityTimer = null;
function refreshActivity() {
  const on = document.getElementById("layer-activity").checked;
  map.setLayoutProperty("activity", "visibility", on ? "visible" : "none");
  if (!on) return;
  // The UTC day of the slider's time less 12 h: at the end of the data (the slider's default),
  // the last full day rather than the few minutes after midnight.
  const day = new Date(Math.floor((sliderTime() - DAY / 2) / DAY) * DAY * 1000).toISOString().slice(0, 10);
  document.getElementById("activityday").textContent = day;
  // Cells to suit the zoom: coarse over a continent, finer over a sea.
  const z = map.getZoom();
  const res = z < 4 ? 3 : z < 5.5 ? 4 : 5;
  const key = `${day}&res=${res}`;
  if (key === state.activityDay) return;
  state.activityDay = key;
  clearTimeout(activityTimer);
  activityTimer = setTimeout(async () => {
    try {
      const a = await api(`/api/map/activity?day=${key}`);
      if (state.activityDay !== key) return;
      map.getSource("activity").setData(a);
      document.body.setAttribute("data-activity", `${day} ${a.cells}`);
    } catch (err) {
      console.error(err);
    }
  }, 150);
}

function setLayer(id, on) {
  const ids = id === "flows" ? ["flows", "flows-dark", "flows-arrows", "flows-handoffs", "flows-ends"] : [id];
  for (const l of ids) map.setLayoutProperty(l, "visibility", on ? "visible" : "none");
}

function setFlowFilter(ids) {
  const only = ids ? [["in", ["get", "flow"], ["literal", ids]]] : [];
  const legs = ["==", ["get", "role"], "leg"];
  map.setFilter("flows", ["all", legs, ["!=", ["get", "drawn"], "dark"], ...only]);
  map.setFilter("flows-dark", ["all", legs, ["==", ["get", "drawn"], "dark"], ...only]);
  map.setFilter("flows-arrows", ["all", legs, ...only]);
  document.body.setAttribute("data-flow-filter", ids ? String(ids.length) : "all");
}

function vesselRow(v) {
  return keyRow(el("div", { class: "row", "data-id": v.id },
    el("span", { class: "score" }, Math.round(v.score)), `${v.names.join(" / ") || v.id} `, el("small", {}, v.id)), () => openVessel(v.id, true));
}

async function search(q) {
  const box = document.getElementById("results");
  box.replaceChildren();
  if (!q.trim()) return;
  const r = await api(`/api/vessels?q=${encodeURIComponent(q)}&limit=20`);
  if (r.vessels.length === 0) box.append(el("div", {}, "no vessel"));
  for (const v of r.vessels) box.append(vesselRow(v));
}

function highlight(ids, fit) {
  state.highlight = new Set(ids);
  refreshEvents();
  const pts = state.events.filter((e) => state.highlight.has(e.id) && e.lat !== null);
  if (fit && pts.length) {
    const b = new maplibregl.LngLatBounds();
    for (const e of pts) b.extend([e.lon, e.lat]);
    map.fitBounds(b, { padding: 80, maxZoom: 8, duration: 0 });
  }
}

function place(e) {
  const d = e.details || {};
  const named = d.place || d.sts_area || d.near;
  if (named && named.name) return `${named.name}${named.country ? " (" + named.country + ")" : ""}`;
  return e.lat === null ? "" : `${e.lat.toFixed(2)}, ${e.lon.toFixed(2)}`;
}

// The evidence pack of an event (a zip: raw lines, decoded values, track, map, configuration,
// list matches as of the day; `shadowfleet verify` checks it), without selecting the row.
function packLink(id) {
  return el("a", { class: "pack", href: `/api/events/${id}/evidence`, download: `shadowfleet-event-${id}.zip`,
    title: "Download the evidence pack: the raw AIS lines behind this event, decoded, with track, map, thresholds and list matches; check it with shadowfleet verify",
    onclick: (ev) => ev.stopPropagation() }, "evidence pack");
}

// One event of the timeline selected: the map zooms to it, the slider moves to its end.
function selectEvent(e) {
  state.selected = e.id;
  for (const r of document.querySelectorAll("#timeline .tl")) r.classList.toggle("sel", r.getAttribute("data-event") === String(e.id));
  setSliderTime(Date.parse(e.end) / 1000);
  state.highlight = new Set([e.id]);
  refreshEvents();
  if (e.lat !== null) {
    const b = new maplibregl.LngLatBounds([e.lon, e.lat], [e.lon, e.lat]);
    if (e.details && e.details.on_lat != null) b.extend([e.details.on_lon, e.details.on_lat]);
    map.fitBounds(b, { padding: 120, maxZoom: 8, duration: 0 });
  }
  document.body.setAttribute("data-selected-event", String(e.id));
}

async function openVessel(id, fit) {
  const p = await api(`/api/vessels/${encodeURIComponent(id)}`);
  state.vessel = id;
  const panel = document.getElementById("panel");
  const risk = p.risk || {};
  const inds = (risk.indicators || []).map((i) =>
    keyRow(el("div", { class: "ind" },
      el("b", {}, `${i.name} +${i.points}`), ` ${i.detail}` + (i.events.length ? ` (${i.events.length} events)` : "")), () => highlight(i.events.map((e) => e.id), true)));
  const ids = el("table", {}, el("tr", {}, el("th", {}, "from"), el("th", {}, "to"), el("th", {}, "MMSI"), el("th", {}, "IMO"), el("th", {}, "name"), el("th", {}, "flag")),
    ...p.identities.map((i) => el("tr", {}, el("td", {}, i.from.slice(0, 10)), el("td", {}, i.to.slice(0, 10)), el("td", {}, i.mmsi), el("td", {}, i.imo ?? ""), el("td", {}, i.name), el("td", {}, i.flag ?? "??"))));
  const matches = p.matches.map((m) => el("div", {}, `${m.score.toFixed(2)} ${m.list} ${m.entry} (${m.entry_name}): ${m.explanation}`));
  const listed = [...new Set(p.matches.map((m) => m.list))];
  const status = listed.length ? `on ${listed.join(", ")} (lists as loaded now)` : "on no list loaded";
  const voyages = p.voyages.map((f) => keyRow(el("div", { class: "ind" },
    `${f.origin ? f.origin.country : "?"} → ${f.discharge ? f.discharge.country + " " + f.discharge.name : f.status}, ${Math.round(f.volume_bbl).toLocaleString()} bbl, ${f.chain.map((h) => h.kind).join(" > ")}`), () => {
    setFlowFilter([f.id]);
    highlight(f.evidence, true);
  }));
  // The vessel's events in time order, each a row that zooms the map and moves the slider.
  const mine = state.events
    .filter((e) => p.mmsis.includes(e.mmsi) || p.mmsis.includes(e.other_mmsi))
    .sort((a, b) => Date.parse(a.start) - Date.parse(b.start));
  const hours = (e) => ((Date.parse(e.end) - Date.parse(e.start)) / 3.6e6).toFixed(1);
  const timeline = el("div", { id: "timeline", role: "listbox", "aria-label": "Events of the vessel in time order" },
    ...mine.map((e) => keyRow(el("div", { class: "tl", "data-event": e.id },
      el("span", { class: "dot", style: `background:${KINDS[e.kind] || "#000"}` }),
      el("b", {}, e.kind.replace("_", " ")), ` ${place(e)}, ${hours(e)} h, ${e.confidence.level} confidence`,
      el("br"), el("span", { class: "when" }, `${e.start.slice(0, 16).replace("T", " ")} → ${e.end.slice(0, 16).replace("T", " ")} UTC · ${status}`),
      " · ", packLink(e.id)), () => selectEvent(e))));
  panel.replaceChildren(
    el("h2", { id: "vessel-title" }, `${(p.names || []).join(" / ")} — ${id}`),
    el("div", {}, `Risk score ${risk.score ?? "-"}${risk.shadow ? " (shadow)" : ""}; MMSIs ${p.mmsis.join(", ")}`),
    el("div", { id: "trackinfo" }, "Track: loading…"),
    el("h2", {}, `Timeline: ${mine.length} events (click or Enter: show it)`), timeline,
    el("h2", {}, "Risk indicators (click: events on the map)"), ...inds,
    el("h2", {}, "Identity timeline"), ids,
    el("h2", {}, "List matches"), ...(matches.length ? matches : [el("div", {}, "none")]),
    el("h2", {}, "Voyages (click: the flow on the map)"), ...(voyages.length ? voyages : [el("div", {}, "none")]),
  );
  highlight(mine.map((e) => e.id), fit);
  await loadTrack(id, fit);
  saveView();
}

// The flow view: Russian oil from each loading terminal, direct or through STS hand-offs, to
// each country of discharge, as bands whose width is the volume (a Sankey diagram in SVG).
// Clicking a band shows those flows on the map.
function flowView() {
  const NS = "http://www.w3.org/2000/svg";
  const svgEl = (tag, attrs) => {
    const e = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    return e;
  };
  const route = (f) => {
    const kinds = f.chain.map((h) => String(h.kind));
    if (kinds.some((k) => k.includes("dark"))) return "via dark STS";
    const n = kinds.filter((k) => k.includes("sts")).length;
    return n === 0 ? "direct" : n === 1 ? "via 1 STS" : `via ${n} STS`;
  };
  const links = new Map();
  for (const f of state.flows) {
    const from = f.origin ? (f.origin.name || (f.origin.inferred ? "inferred origin" : f.origin.country)) : "unknown";
    const to = f.discharge ? f.discharge.country : f.status === "lost" ? "lost track" : "still at sea";
    const mid = route(f);
    for (const [a, b] of [[`0|${from}`, `1|${mid}`], [`1|${mid}`, `2|${to}`]]) {
      const key = `${a}>${b}`;
      const l = links.get(key) || { a, b, v: 0, ids: [] };
      l.v += f.volume_bbl;
      l.ids.push(f.id);
      links.set(key, l);
    }
  }
  const nodes = new Map();
  for (const l of links.values()) {
    for (const [n, side] of [[l.a, "out"], [l.b, "in"]]) {
      const x = nodes.get(n) || { name: n.slice(2), col: Number(n[0]), in: 0, out: 0 };
      x[side] += l.v;
      nodes.set(n, x);
    }
  }
  const W = 1000, H = 420, pad = 8, nodeW = 12;
  const cols = [0, 1, 2].map((c) => [...nodes.entries()].filter(([, n]) => n.col === c).sort((a, b) => Math.max(b[1].in, b[1].out) - Math.max(a[1].in, a[1].out)));
  const total = Math.max(...cols.map((c) => c.reduce((s, [, n]) => s + Math.max(n.in, n.out), 0)), 1);
  const scale = (H - 20 - pad * Math.max(...cols.map((c) => c.length))) / total;
  const svg = svgEl("svg", { width: W, height: H, viewBox: `0 0 ${W} ${H}`, id: "flowsvg" });
  const xs = [290, 290 + (W - 290 - 160) / 2, W - 160 - nodeW];
  for (const [c, col] of cols.entries()) {
    let y = 10;
    for (const [, n] of col) {
      const h = Math.max(1, Math.max(n.in, n.out) * scale);
      Object.assign(n, { x: xs[c], y, h, inY: y, outY: y });
      svg.append(svgEl("rect", { x: xs[c], y, width: nodeW, height: h, fill: "#555" }));
      const label = svgEl("text", { x: c === 0 ? xs[c] - 4 : xs[c] + nodeW + 4, y: y + h / 2 + 4, "text-anchor": c === 0 ? "end" : "start", "font-size": 12 });
      const name = n.name.length > 40 ? n.name.slice(0, 39) + "…" : n.name;
      label.textContent = `${name} ${(Math.max(n.in, n.out) / 1e6).toFixed(2)}`;
      svg.append(label);
      y += h + pad;
    }
  }
  for (const l of [...links.values()].sort((p, q) => q.v - p.v)) {
    const a = nodes.get(l.a), b = nodes.get(l.b);
    const w = Math.max(1, l.v * scale);
    const y1 = a.outY + w / 2, y2 = b.inY + w / 2;
    a.outY += w;
    b.inY += w;
    const x1 = a.x + nodeW, x2 = b.x, mx = (x1 + x2) / 2;
    const path = svgEl("path", { d: `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}`, fill: "none", stroke: l.b.includes("STS") || l.a.includes("STS") ? FLOW_STS : FLOW_DIRECT, "stroke-opacity": 0.45, "stroke-width": w, class: "flowlink" });
    const title = svgEl("title", {});
    title.textContent = `${l.a.slice(2)} → ${l.b.slice(2)}: ${(l.v / 1e6).toFixed(2)} million bbl, ${l.ids.length} flows (click: show on the map)`;
    path.append(title);
    path.addEventListener("click", () => {
      setFlowFilter(l.ids);
      document.getElementById("layer-flows").checked = true;
      setLayer("flows", true);
      document.getElementById("flowview").hidden = true;
    });
    svg.append(path);
  }
  const box = document.getElementById("flowbody");
  box.replaceChildren(svg);
  document.getElementById("flowview").hidden = false;
}

async function loadSide() {
  const top = await api("/api/vessels?limit=20");
  const box = document.getElementById("leaders");
  for (const v of top.vessels) box.append(vesselRow(v));
  const [exposure, flows, about] = await Promise.all([api("/api/exposure"), allPages("/api/flows?origin=RU", "flows"), api("/api/about")]);
  state.flows = flows;
  state.about = about;
  exposureChart(exposure.rows);
}

// Russian oil received by country and month: a column per month, stacked by country (the
// eight largest; the rest as "other"), with the totals per country in the legend.
function exposureChart(rows) {
  const COLOURS = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#882255", "#999999"];
  const total = {};
  for (const r of rows) total[r.country] = (total[r.country] || 0) + r.volume_bbl;
  const ranked = Object.entries(total).filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1]);
  const top = ranked.slice(0, 8).map(([c]) => c);
  const group = (c) => (top.includes(c) ? c : "other");
  const months = [...new Set(rows.map((r) => r.month))].sort();
  const cell = {};
  for (const r of rows) {
    const k = `${r.month}|${group(r.country)}`;
    cell[k] = (cell[k] || 0) + r.volume_bbl;
  }
  const groups = ranked.length > 8 ? [...top, "other"] : top;
  const perMonth = months.map((m) => groups.reduce((s, g) => s + (cell[`${m}|${g}`] || 0), 0));
  const max = Math.max(...perMonth, 1);
  const NS = "http://www.w3.org/2000/svg";
  const node = (tag, attrs, text) => {
    const e = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const H = 110, colW = 56, left = 40;
  const svg = node("svg", { id: "exposurechart", width: left + months.length * (colW + 14) + 10, height: H + 22 });
  svg.append(node("text", { x: 0, y: 10, "font-size": 10 }, `${(max / 1e6).toFixed(1)}`));
  svg.append(node("text", { x: 0, y: H, "font-size": 10 }, "0"));
  months.forEach((m, i) => {
    let y = H;
    const x = left + i * (colW + 14);
    groups.forEach((g, j) => {
      const v = cell[`${m}|${g}`] || 0;
      if (v <= 0) return;
      const h = (v / max) * (H - 8);
      y -= h;
      const r = node("rect", { x, y, width: colW, height: h, fill: COLOURS[j], class: "expbar" });
      r.append(node("title", {}, `${g} ${m}: ${(v / 1e6).toFixed(2)} million bbl`));
      svg.append(r);
    });
    svg.append(node("text", { x: x + colW / 2, y: H + 14, "font-size": 11, "text-anchor": "middle" }, m));
  });
  const legend = el("div", { class: "legend" }, ...groups.map((g, j) =>
    el("span", {}, el("span", { class: "dot", style: `background:${COLOURS[j]}` }), `${g} ${((g === "other" ? ranked.slice(8).reduce((s, [, v]) => s + v, 0) : total[g]) / 1e6).toFixed(2)}`)));
  document.getElementById("exposure").replaceChildren(svg, legend);
}

// The view in the URL's fragment: vessel, slider time, confidence, layers, hidden kinds and
// the camera; a link opens the same view.
const LAYERS = ["flows", "gaps", "activity"];
function viewHash() {
  const q = new URLSearchParams();
  if (state.vessel) q.set("vessel", state.vessel);
  q.set("t", new Date(sliderTime() * 1000).toISOString().slice(0, 19) + "Z");
  q.set("confidence", document.getElementById("confidence").value);
  q.set("layers", LAYERS.filter((l) => document.getElementById(`layer-${l}`).checked).join(","));
  if (state.hidden.size) q.set("hide", [...state.hidden].sort().join(","));
  const c = map.getCenter();
  q.set("map", `${c.lng.toFixed(4)},${c.lat.toFixed(4)},${map.getZoom().toFixed(2)}`);
  return "#" + q.toString();
}

function saveView() {
  if (state.restoring || !document.body.hasAttribute("data-ready")) return;
  history.replaceState(null, "", viewHash());
}

async function restoreView() {
  const q = new URLSearchParams(location.hash.slice(1));
  if (![...q.keys()].length) return;
  state.restoring = true;
  try {
    const conf = q.get("confidence");
    if (conf && conf in LEVELS) document.getElementById("confidence").value = conf;
    if (q.has("layers")) {
      const on = new Set(q.get("layers").split(",").filter(Boolean));
      for (const l of LAYERS) {
        document.getElementById(`layer-${l}`).checked = on.has(l);
        setLayer(l, on.has(l));
      }
    }
    state.hidden = new Set((q.get("hide") || "").split(",").filter((k) => k in KINDS));
    for (const box of document.querySelectorAll("#legend input[data-kind]")) box.checked = !state.hidden.has(box.getAttribute("data-kind"));
    const t = Date.parse(q.get("t") || "");
    if (Number.isFinite(t)) setSliderTime(t / 1000);
    if (q.get("vessel")) await openVessel(q.get("vessel"), false);
    const cam = (q.get("map") || "").split(",").map(Number);
    if (cam.length === 3 && cam.every(Number.isFinite)) map.jumpTo({ center: [cam[0], cam[1]], zoom: cam[2] });
  } finally {
    state.restoring = false;
  }
  refreshEvents();
}

// The image export: the map as drawn, with a legend, a scale bar, the data's dates, the lists
// screened against, the sources and their licences, and the statement that these are
// analytical findings — everything a published figure needs.
async function exportImage() {
  await new Promise((r) => { map.once("render", r); map.triggerRepaint(); });
  const mc = map.getCanvas();
  const dpr = mc.width / mc.clientWidth || 1;
  const W = mc.width, H = mc.height, foot = Math.round(118 * dpr);
  const c = document.createElement("canvas");
  c.width = W;
  c.height = H + foot;
  const g = c.getContext("2d");
  g.fillStyle = "#fff";
  g.fillRect(0, 0, W, H + foot);
  g.drawImage(mc, 0, 0);
  g.scale(dpr, dpr);
  const w = W / dpr, h = H / dpr;
  // Scale bar at the bottom left of the map: a round number of nautical miles.
  const mpp = (40075016.686 * Math.cos((map.getCenter().lat * Math.PI) / 180)) / (512 * 2 ** map.getZoom());
  const nmPerPx = mpp / 1852;
  let nm = 1;
  for (const s of [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000]) if (s / nmPerPx <= 160) nm = s;
  const px = nm / nmPerPx;
  g.fillStyle = "rgba(255,255,255,.85)";
  g.fillRect(8, h - 30, px + 16, 24);
  g.strokeStyle = "#000";
  g.lineWidth = 2;
  g.beginPath();
  g.moveTo(16, h - 16); g.lineTo(16, h - 11); g.lineTo(16 + px, h - 11); g.lineTo(16 + px, h - 16);
  g.stroke();
  g.fillStyle = "#000";
  g.font = "11px system-ui, sans-serif";
  g.fillText(`${nm} nm`, 18, h - 18);
  // The legend.
  let x = 10, y = h + 18;
  g.font = "bold 13px system-ui, sans-serif";
  g.fillText("shadowfleet", x, y);
  g.font = "12px system-ui, sans-serif";
  x = 100;
  for (const [k, col] of Object.entries(KINDS)) {
    if (state.hidden.has(k)) continue;
    g.fillStyle = col;
    g.beginPath(); g.arc(x + 5, y - 4, 5, 0, 2 * Math.PI); g.fill();
    g.fillStyle = "#222";
    g.fillText(k, x + 13, y);
    x += g.measureText(k).width + 28;
  }
  y += 20; x = 10;
  const line = (col, dash, label) => {
    g.strokeStyle = col; g.lineWidth = 3; g.setLineDash(dash);
    g.beginPath(); g.moveTo(x, y - 4); g.lineTo(x + 22, y - 4); g.stroke(); g.setLineDash([]);
    g.fillStyle = "#222"; g.fillText(label, x + 27, y);
    x += g.measureText(label).width + 45;
  };
  line(FLOW_DIRECT, [], "cargo flow, direct");
  line(FLOW_STS, [], "cargo flow via STS");
  line(KINDS.gap || "#D55E00", [4, 4], "dark gap (sea-lane path)");
  line("#21918c", [], "vessel track (colour: time)");
  for (let i = 0; i < 5; i++) { g.fillStyle = VIRIDIS[i]; g.fillRect(x + i * 12, y - 10, 12, 10); }
  g.fillStyle = "#222";
  g.fillText("tanker-hours per cell", x + 66, y);
  const a = state.about || {};
  const lists = (a.lists || []).map((l) => `${l.name} (${l.kind}, loaded ${String(l.loaded_at).slice(0, 10)})`).join("; ") || "none";
  const span = a.data_start ? `${a.data_start.slice(0, 10)} – ${a.data_end.slice(0, 10)}` : "no data";
  const until = new Date(sliderTime() * 1000).toISOString().slice(0, 16).replace("T", " ");
  g.font = "11px system-ui, sans-serif";
  const text = [
    `Data: AIS ${span} (UTC); events shown until ${until} UTC, confidence ≥ ${document.getElementById("confidence").value}${state.vessel ? "; vessel " + state.vessel : ""}.`,
    `Lists: ${lists}.`,
    `Sources: ${(a.sources || []).join("; ")}. shadowfleet ${a.version || ""}.`,
    a.statement || "Analytical findings from AIS, not legal determinations.",
  ];
  y += 20;
  for (const t of text) {
    g.fillText(t.length > 220 ? t.slice(0, 219) + "…" : t, 10, y, w - 20);
    y += 16;
  }
  const url = c.toDataURL("image/png");
  const name = `shadowfleet-${until.slice(0, 10)}${state.vessel ? "-" + state.vessel : ""}.png`;
  const link = el("a", { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  document.body.setAttribute("data-exported", `${c.width}x${c.height}`);
}

let timer = null;
document.getElementById("search").addEventListener("input", (e) => {
  clearTimeout(timer);
  timer = setTimeout(() => search(e.target.value).catch(console.error), 200);
});
document.getElementById("time").addEventListener("input", refreshEvents);
document.getElementById("confidence").addEventListener("change", refreshEvents);
for (const l of LAYERS) {
  document.getElementById(`layer-${l}`).addEventListener("change", (e) => {
    setLayer(l, e.target.checked);
    refreshEvents();
  });
}
document.getElementById("openflows").addEventListener("click", flowView);
document.getElementById("export").addEventListener("click", () => exportImage().catch(console.error));
document.getElementById("closeflows").addEventListener("click", () => {
  document.getElementById("flowview").hidden = true;
});
document.getElementById("allflows").addEventListener("click", (e) => {
  e.preventDefault();
  setFlowFilter(null);
});
map.on("moveend", saveView);
map.on("zoomend", () => { if (map.getSource("activity")) refreshActivity(); });
map.on("load", async () => {
  try {
    await loadKinds();
    await loadEvents();
    await loadLayers();
    await loadSide();
    await restoreView();
    refreshEvents();
    await startLive();
    document.body.setAttribute("data-ready", "1");
    saveView();
  } catch (err) {
    console.error(err);
    document.body.setAttribute("data-error", String(err));
  }
});

// The live layer and the alert panel, when the server watches feeds (`watch --serve`): each
// vessel's latest position after each checkpoint, and the alerts as they are raised, both
// over server-sent events. A store without feeds opens no stream.
async function startLive() {
  const feeds = await api("/api/feeds");
  if (!feeds.length) return;
  map.addSource("live", { type: "geojson", data: EMPTY });
  map.addLayer({ id: "live", type: "circle", source: "live", paint: { "circle-radius": 3, "circle-color": "#0072B2", "circle-stroke-color": "#fff", "circle-stroke-width": 1 } });
  map.on("click", "live", (ev) => {
    const p = ev.features[0].properties;
    openVessel(`mmsi:${p.mmsi}`, false).catch(console.error);
  });
  document.getElementById("live-toggle").hidden = false;
  document.getElementById("layer-live").addEventListener("change", (e) => setLayer("live", e.target.checked));
  const positions = new EventSource("/api/live/stream");
  positions.addEventListener("positions", (m) => {
    const g = JSON.parse(m.data);
    map.getSource("live").setData(g);
    document.getElementById("livecount").textContent = String(g.features.length);
    const latest = g.features.reduce((a, f) => (f.properties.time > a ? f.properties.time : a), "");
    document.getElementById("liveat").textContent = latest ? latest.replace("T", " ").slice(0, 16) + " UTC" : "-";
    document.body.setAttribute("data-live", String(g.features.length));
  });
  const title = document.getElementById("alerts-title");
  const list = document.getElementById("alerts");
  title.hidden = false;
  list.hidden = false;
  const alerts = new EventSource("/api/alerts/stream");
  alerts.addEventListener("alert", (m) => {
    const a = JSON.parse(m.data).alert;
    const row = keyRow(el("div", { class: "tl", "data-alert": a.alert_id },
      el("div", {}, el("b", {}, a.rule), ` ${a.summary}`),
      el("div", { class: "when" }, `${a.time.replace("T", " ").slice(0, 16)} UTC · ${a.kind} · ${a.confidence}`)), () => {
      if (a.lat != null && a.lon != null) map.flyTo({ center: [a.lon, a.lat], zoom: Math.max(map.getZoom(), 7) });
      openVessel(a.imo ? `imo:${a.imo}` : `mmsi:${a.mmsi}`, false).catch(console.error);
    });
    list.prepend(row);
    while (list.children.length > 200) list.lastChild.remove();
    document.body.setAttribute("data-alerts", String(list.children.length));
  });
}

// For tests: the line geometry the map draws now (flows and gaps), to check it against land.
window.shadowfleetDrawn = () => {
  const lines = [];
  for (const id of ["flows", "gaps"]) {
    const data = id === "flows" ? state.flowGeo : state.gaps;
    for (const f of (data || EMPTY).features) {
      if (f.geometry.type === "LineString") lines.push({ layer: id, drawn: f.properties.drawn, coordinates: f.geometry.coordinates });
    }
  }
  return lines;
};
