// The shadowfleet map: events and cargo flows over a Natural Earth basemap served by the
// same binary, a vessel search, a vessel panel (identity timeline, list matches, risk with
// the evidence behind each indicator) with the vessel's track, a time slider over events and
// the track, a risk leaderboard, the exposure by country and month, and the origin → STS → destination
// flow view. Plain JavaScript over the JSON API (docs/api.md); no build step.
"use strict";

// Colours of the kinds the map knows; a kind added later gets one from the palette.
const COLORS = {
  gap: "#d62728",
  encounter: "#9467bd",
  loitering: "#ff7f0e",
  port_call: "#2ca02c",
  spoofing: "#e377c2",
  identity_change: "#7f7f7f",
  zone: "#17becf",
};
const PALETTE = ["#bcbd22", "#8c564b", "#1f77b4", "#aec7e8", "#98df8a"];
// Event kind → colour, for every kind the server's OpenAPI description lists
// (`components.schemas.EventKind.enum`, generated from the Rust enum).
const KINDS = {};

async function loadKinds() {
  const spec = await api("/api/openapi.json");
  const kinds = spec.components.schemas.EventKind.enum;
  let extra = 0;
  for (const k of kinds) KINDS[k] = COLORS[k] || PALETTE[extra++ % PALETTE.length];
}

const state = { events: [], flows: [], t0: 0, t1: 0, highlight: null, track: null };

function sliderTime() {
  return state.t0 + (state.t1 - state.t0) * (document.getElementById("time").value / 1000);
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
      { id: "sea", type: "background", paint: { "background-color": "#cfe3f0" } },
      { id: "land", type: "fill", source: "land", paint: { "fill-color": "#f2efe9", "fill-outline-color": "#b8b2a7" } },
    ],
  },
  center: [15, 50],
  zoom: 3,
});
map.addControl(new maplibregl.NavigationControl(), "top-right");

// Confidence levels in order: an event is shown when its level is at least the control's.
const LEVELS = { low: 0, medium: 1, high: 2 };

function eventFeatures() {
  const until = sliderTime();
  const min = LEVELS[document.getElementById("confidence").value] || 0;
  const points = [];
  const lines = [];
  for (const e of state.events) {
    if (e.lat === null || e.lon === null) continue;
    if ((LEVELS[e.confidence.level] || 0) < min) continue;
    if (Date.parse(e.start) / 1000 > until) continue;
    const hl = state.highlight ? state.highlight.has(e.id) : false;
    const props = { id: e.id, kind: e.kind, mmsi: e.mmsi, other: e.other_mmsi || "", start: e.start, end: e.end, confidence: e.confidence.level, why: e.confidence.reasons.join("; "), hl };
    points.push({ type: "Feature", geometry: { type: "Point", coordinates: [e.lon, e.lat] }, properties: props });
    // A gap: a dashed line from where the ship went dark to where it came back.
    if (e.kind === "gap" && e.details && e.details.on_lat != null) {
      lines.push({ type: "Feature", geometry: { type: "LineString", coordinates: [[e.lon, e.lat], [e.details.on_lon, e.details.on_lat]] }, properties: props });
    }
  }
  return { points: { type: "FeatureCollection", features: points }, lines: { type: "FeatureCollection", features: lines } };
}

function refreshEvents() {
  const f = eventFeatures();
  map.getSource("events").setData(f.points);
  map.getSource("gaps").setData(f.lines);
  const until = new Date(sliderTime() * 1000);
  document.getElementById("timelabel").textContent = until.toISOString().slice(0, 16).replace("T", " ") + " UTC";
  refreshTrack();
}

// The selected vessel's track: solid up to the slider's time, faint after it, and a marker
// where the vessel was at that time.
function refreshTrack() {
  const src = (id) => map.getSource(id);
  if (!src("track-past")) return;
  const past = [], future = [], head = [];
  const until = sliderTime();
  let latest = null;
  for (const f of state.track ? state.track.features : []) {
    const coords = f.geometry.type === "LineString" ? f.geometry.coordinates : [f.geometry.coordinates];
    const times = f.properties.times;
    let lo = 0, hi = times.length - 1, k = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (times[mid] <= until) { k = mid; lo = mid + 1; } else hi = mid - 1;
    }
    if (k >= 1) past.push({ type: "Feature", geometry: { type: "LineString", coordinates: coords.slice(0, k + 1) }, properties: {} });
    if (k < coords.length - 1 && coords.length - Math.max(k, 0) >= 2) future.push({ type: "Feature", geometry: { type: "LineString", coordinates: coords.slice(Math.max(k, 0)) }, properties: {} });
    if (k >= 0 && (!latest || times[k] > latest.t)) latest = { t: times[k], at: coords[k], mmsi: f.properties.mmsi };
  }
  if (latest) head.push({ type: "Feature", geometry: { type: "Point", coordinates: latest.at }, properties: { mmsi: latest.mmsi, time: new Date(latest.t * 1000).toISOString() } });
  src("track-past").setData({ type: "FeatureCollection", features: past });
  src("track-future").setData({ type: "FeatureCollection", features: future });
  src("track-head").setData({ type: "FeatureCollection", features: head });
  document.body.setAttribute("data-track-head", head.length ? head[0].properties.time : "");
}

function addTrackLayers() {
  const empty = { type: "FeatureCollection", features: [] };
  for (const id of ["track-future", "track-past", "track-head"]) map.addSource(id, { type: "geojson", data: empty });
  map.addLayer({ id: "track-future", type: "line", source: "track-future", paint: { "line-color": "#333", "line-width": 1, "line-opacity": 0.35 } }, "gaps");
  map.addLayer({ id: "track-past", type: "line", source: "track-past", paint: { "line-color": "#111", "line-width": 2 } }, "gaps");
  map.addLayer({ id: "track-head", type: "circle", source: "track-head", paint: { "circle-radius": 7, "circle-color": "#ffd700", "circle-stroke-color": "#000", "circle-stroke-width": 2 } });
}

async function loadTrack(id) {
  const t = await api(`/api/vessels/${encodeURIComponent(id)}/track?zoom=10`);
  state.track = t;
  refreshTrack();
  const b = new maplibregl.LngLatBounds();
  for (const f of t.features) {
    const coords = f.geometry.type === "LineString" ? f.geometry.coordinates : [f.geometry.coordinates];
    for (const c of coords) b.extend(c);
  }
  if (!b.isEmpty()) map.fitBounds(b, { padding: 60, maxZoom: 9, duration: 0 });
  document.getElementById("trackinfo").textContent = t.vertices
    ? `Track: ${t.positions.toLocaleString()} positions (${t.vertices.toLocaleString()} drawn), ${t.start.slice(0, 16)} → ${t.end.slice(0, 16)} UTC`
    : "Track: no stored positions";
  document.body.setAttribute("data-track", String(t.vertices));
}

async function loadEvents() {
  // Every event, whatever its confidence: the control filters them here.
  state.events = await allPages("/api/events?min_confidence=low", "events");
  state.t0 = Math.min(...state.events.map((e) => Date.parse(e.start) / 1000));
  state.t1 = Math.max(...state.events.map((e) => Date.parse(e.end) / 1000));
  const color = ["match", ["get", "kind"]];
  for (const [k, c] of Object.entries(KINDS)) color.push(k, c);
  color.push("#000");
  map.addSource("gaps", { type: "geojson", data: { type: "FeatureCollection", features: [] } });
  map.addLayer({ id: "gaps", type: "line", source: "gaps", paint: { "line-color": KINDS.gap, "line-width": 1.5, "line-dasharray": [2, 2] } });
  map.addSource("events", { type: "geojson", data: { type: "FeatureCollection", features: [] } });
  map.addLayer({
    id: "events", type: "circle", source: "events",
    paint: {
      "circle-color": color,
      "circle-radius": ["case", ["get", "hl"], 8, ["==", ["get", "kind"], "encounter"], 6, 4],
      "circle-stroke-color": ["case", ["get", "hl"], "#000", ["==", ["get", "kind"], "encounter"], "#fff", "#fff"],
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
    const box = el("div", {}, el("b", {}, p.kind), ` #${p.id}`, el("br"), who, el("br"), p.start, el("br"), `→ ${p.end}`, el("br"), `confidence ${p.confidence}: ${p.why}`);
    new maplibregl.Popup().setLngLat(ev.lngLat).setDOMContent(box).addTo(map);
  });
  const legend = document.getElementById("legend");
  for (const [k, c] of Object.entries(KINDS)) legend.append(el("span", {}, el("span", { class: "dot", style: `background:${c}` }), k));
  refreshEvents();
}

async function loadFlows() {
  const flows = await allPages("/api/flows?origin=RU", "flows");
  state.flows = flows;
  const features = flows
    .filter((f) => f.path && f.path.length >= 2)
    .map((f) => ({ type: "Feature", geometry: { type: "LineString", coordinates: f.path }, properties: { id: f.id, sts: f.sts_hops, to: f.discharge ? f.discharge.country : "" } }));
  map.addSource("flows", { type: "geojson", data: { type: "FeatureCollection", features } });
  map.addLayer({ id: "flows", type: "line", source: "flows", paint: { "line-color": ["case", [">", ["get", "sts"], 0], "#8c564b", "#1f77b4"], "line-width": 1.2, "line-opacity": 0.6 } }, "gaps");
  document.getElementById("flows").addEventListener("change", (e) => map.setLayoutProperty("flows", "visibility", e.target.checked ? "visible" : "none"));
}

function vesselRow(v) {
  return el("div", { class: "row", "data-id": v.id, onclick: () => openVessel(v.id) },
    el("span", { class: "score" }, Math.round(v.score)), `${v.names.join(" / ") || v.id} `, el("small", {}, v.id));
}

async function search(q) {
  const box = document.getElementById("results");
  box.replaceChildren();
  if (!q.trim()) return;
  const r = await api(`/api/vessels?q=${encodeURIComponent(q)}&limit=20`);
  if (r.vessels.length === 0) box.append(el("div", {}, "no vessel"));
  for (const v of r.vessels) box.append(vesselRow(v));
}

function highlight(ids) {
  state.highlight = new Set(ids);
  refreshEvents();
  const pts = state.events.filter((e) => state.highlight.has(e.id) && e.lat !== null);
  if (pts.length) {
    const b = new maplibregl.LngLatBounds();
    for (const e of pts) b.extend([e.lon, e.lat]);
    map.fitBounds(b, { padding: 80, maxZoom: 8, duration: 0 });
  }
}

async function openVessel(id) {
  const p = await api(`/api/vessels/${encodeURIComponent(id)}`);
  const panel = document.getElementById("panel");
  const risk = p.risk || {};
  const inds = (risk.indicators || []).map((i) =>
    el("div", { class: "ind", onclick: () => highlight(i.events.map((e) => e.id)) },
      el("b", {}, `${i.name} +${i.points}`), ` ${i.detail}` + (i.events.length ? ` (${i.events.length} events)` : "")));
  const ids = el("table", {}, el("tr", {}, el("th", {}, "from"), el("th", {}, "to"), el("th", {}, "MMSI"), el("th", {}, "IMO"), el("th", {}, "name"), el("th", {}, "flag")),
    ...p.identities.map((i) => el("tr", {}, el("td", {}, i.from.slice(0, 10)), el("td", {}, i.to.slice(0, 10)), el("td", {}, i.mmsi), el("td", {}, i.imo ?? ""), el("td", {}, i.name), el("td", {}, i.flag ?? "??"))));
  const matches = p.matches.map((m) => el("div", {}, `${m.score.toFixed(2)} ${m.list} ${m.entry} (${m.entry_name}): ${m.explanation}`));
  const voyages = p.voyages.map((f) => el("div", { class: "ind", onclick: () => highlight(f.evidence) },
    `${f.origin ? f.origin.country : "?"} → ${f.discharge ? f.discharge.country + " " + f.discharge.name : f.status}, ${Math.round(f.volume_bbl).toLocaleString()} bbl, ${f.chain.map((h) => h.kind).join(" > ")}`));
  panel.replaceChildren(
    el("h2", { id: "vessel-title" }, `${(p.names || []).join(" / ")} — ${id}`),
    el("div", {}, `Risk score ${risk.score ?? "-"}${risk.shadow ? " (shadow)" : ""}; MMSIs ${p.mmsis.join(", ")}`),
    el("div", { id: "trackinfo" }, "Track: loading…"),
    el("h2", {}, "Risk indicators (click: events on the map)"), ...inds,
    el("h2", {}, "Identity timeline"), ids,
    el("h2", {}, "List matches"), ...(matches.length ? matches : [el("div", {}, "none")]),
    el("h2", {}, "Voyages"), ...(voyages.length ? voyages : [el("div", {}, "none")]),
  );
  const mine = state.events.filter((e) => p.mmsis.includes(e.mmsi) || p.mmsis.includes(e.other_mmsi)).map((e) => e.id);
  highlight(mine);
  await loadTrack(id);
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
    const path = svgEl("path", { d: `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}`, fill: "none", stroke: l.b.includes("STS") || l.a.includes("STS") ? "#8c564b" : "#1f77b4", "stroke-opacity": 0.45, "stroke-width": w, class: "flowlink" });
    const title = svgEl("title", {});
    title.textContent = `${l.a.slice(2)} → ${l.b.slice(2)}: ${(l.v / 1e6).toFixed(2)} million bbl, ${l.ids.length} flows (click: show on the map)`;
    path.append(title);
    path.addEventListener("click", () => {
      map.setFilter("flows", ["in", ["get", "id"], ["literal", l.ids]]);
      map.setLayoutProperty("flows", "visibility", "visible");
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
  exposureChart((await api("/api/exposure")).rows);
}

// Russian oil received by country and month: a column per month, stacked by country (the
// eight largest; the rest as "other"), with the totals per country in the legend.
function exposureChart(rows) {
  const COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#999"];
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

let timer = null;
document.getElementById("search").addEventListener("input", (e) => {
  clearTimeout(timer);
  timer = setTimeout(() => search(e.target.value).catch(console.error), 200);
});
document.getElementById("time").addEventListener("input", refreshEvents);
document.getElementById("confidence").addEventListener("change", refreshEvents);
document.getElementById("openflows").addEventListener("click", flowView);
document.getElementById("closeflows").addEventListener("click", () => {
  document.getElementById("flowview").hidden = true;
});
document.getElementById("allflows").addEventListener("click", () => map.setFilter("flows", null));
map.on("load", async () => {
  try {
    await loadKinds();
    await loadEvents();
    await loadFlows();
    await loadSide();
    document.body.setAttribute("data-ready", "1");
  } catch (err) {
    console.error(err);
    document.body.setAttribute("data-error", String(err));
  }
});
