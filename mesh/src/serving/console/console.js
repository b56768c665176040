// The mediamesh console: draws the context map (/console/map), then applies each second's
// figures (/console/stream, server-sent events); the map is drawn again when its version
// changes (an admin peer's contexts became known). No library, no build step; every text
// from the server, a peer's above all, goes through textContent, never HTML.
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const NODE_W = 160, NODE_H = 38, COL_W = 240, ROW_H = 56, TOP = 40, LEFT = 72;

const $ = (sel) => document.querySelector(sel);
const rows = {contexts: new Map(), calls: new Map(), edges: new Map()};
// Map shapes; the event edges between two contexts share one line (the table lists each).
const shapes = {nodes: new Map(), calls: new Map(), pairs: new Map()};
// The map version drawn, and whether a newer one is being fetched.
const drawn = {version: null, fetching: false, peers: ""};

function el(tag, attrs = {}, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

function row(tbody, key, attr, cells) {
  const tr = el("tr", {[attr]: key});
  const tds = {};
  for (const [name, text, cls] of cells) {
    tds[name] = el("td", cls ? {class: cls} : {}, text);
    tr.append(tds[name]);
  }
  tbody.append(tr);
  return {tr, tds};
}

const callKey = (c) => `${c.from}>${c.to}`;
const edgeKey = (e) => `${e.from}>${e.to}:${e.event}`;

// A link to a peer's own console: its URL comes from this process's --admin-peer flag.
function consoleLink(url) {
  const a = el("a", {}, url);
  if (/^http:\/\/[^\s/]+$/.test(url)) a.setAttribute("href", `${url}/`);
  return a;
}

function drawTables(map) {
  const contexts = $("#contexts tbody");
  for (const app of map.apps) {
    for (const c of app.contexts) {
      const r = row(contexts, c.id, "data-context", [
        ["name", c.id], ["health", "starting", "health"], ["calls", "0", "n"],
        ["p99", "-", "n"], ["outbox", "0", "n"], ["lag", "-", "n"], ["letters", "0", "n"],
        ["process", c.process ? "" : "here", "process"],
      ]);
      if (c.process) {
        r.tr.classList.add("remote");
        r.tds.process.append(consoleLink(c.process));
      }
      rows.contexts.set(c.id, r);
    }
  }
  for (const c of map.calls) {
    rows.calls.set(callKey(c), row($("#calls tbody"), callKey(c), "data-call", [
      ["from", c.from], ["to", c.to], ["rpc", c.rpc], ["breaker", "closed", "breaker"],
    ]));
  }
  for (const e of map.edges) {
    rows.edges.set(edgeKey(e), row($("#edges tbody"), edgeKey(e), "data-edge", [
      ["from", e.from], ["to", e.to], ["event", e.event], ["rate", "0", "n rate"],
    ]));
  }
}

// Apps side by side, their contexts stacked; contexts run elsewhere in a last column.
function layout(map) {
  const at = new Map();
  const columns = map.apps.map((a) => ({title: a.app, ids: a.contexts.map((c) => c.id)}));
  if (map.elsewhere.length) columns.push({title: "elsewhere", ids: map.elsewhere, away: true});
  const process = new Map(map.apps.flatMap((a) => a.contexts.map((c) => [c.id, c.process])));
  columns.forEach((col, i) => col.ids.forEach((id, j) => {
    at.set(id, {x: LEFT + i * COL_W, y: TOP + j * ROW_H, away: !!col.away,
      process: process.get(id)});
  }));
  const height = TOP + Math.max(...columns.map((c) => c.ids.length)) * ROW_H;
  return {at, columns, width: LEFT + columns.length * COL_W, height};
}

// A curve from one box to another: beside the column when both are in it (calls on the
// right, events on the left), across the gap otherwise. Returns the path and its midpoint.
function curve(a, b, side) {
  if (a.x === b.x) {
    const x = side > 0 ? a.x + NODE_W : a.x;
    const bulge = side * Math.min(38, 14 + Math.abs(b.y - a.y) / 6);
    const y1 = a.y + NODE_H / 2 + side * 5, y2 = b.y + NODE_H / 2 + side * 5;
    return {d: `M${x},${y1} C${x + bulge},${y1} ${x + bulge},${y2} ${x},${y2}`,
      mx: x + bulge * 0.75, my: (y1 + y2) / 2};
  }
  const forward = b.x > a.x;
  const x1 = forward ? a.x + NODE_W : a.x, x2 = forward ? b.x : b.x + NODE_W;
  const y1 = a.y + NODE_H / 2, y2 = b.y + NODE_H / 2, dx = (x2 - x1) / 2;
  return {d: `M${x1},${y1} C${x1 + dx},${y1} ${x2 - dx},${y2} ${x2},${y2}`,
    mx: (x1 + x2) / 2, my: (y1 + y2) / 2};
}

function drawMap(map) {
  const {at, columns, width, height} = layout(map);
  const root = $("#map");
  root.setAttribute("viewBox", `0 0 ${width} ${height}`);
  // Its natural size on a wide screen, scaled down to fit a narrower one.
  root.style.maxWidth = `${width}px`;
  const defs = svg("defs");
  for (const [id, cls] of [["arrow-call", "call"], ["arrow-event", "event"], ["arrow-open", "open"]]) {
    const marker = svg("marker", {id, viewBox: "0 0 8 8", refX: 7, refY: 4, markerWidth: 9,
      markerHeight: 9, markerUnits: "userSpaceOnUse", orient: "auto-start-reverse"});
    marker.append(svg("path", {d: "M0,0 L8,4 L0,8 z", class: `head ${cls}`}));
    defs.append(marker);
  }
  root.append(defs);
  columns.forEach((col, i) => {
    root.append(svg("text", {x: LEFT + i * COL_W, y: 22, class: "app"}, col.title));
  });
  const lines = svg("g"), labels = svg("g"), boxes = svg("g");
  root.append(lines, boxes, labels);
  for (const c of map.calls) {
    if (!at.has(c.from) || !at.has(c.to)) continue;
    const path = curve(at.get(c.from), at.get(c.to), 1);
    const line = svg("path", {d: path.d, class: "call", "marker-end": "url(#arrow-call)"});
    line.append(svg("title", {}, `${c.from} \u2192 ${c.to} (${c.rpc})`));
    // Named on the map only while its breaker is not closed: then it must stand out.
    const label = svg("text", {x: path.mx + 3, y: path.my + 4, class: "label call"}, "");
    lines.append(line);
    labels.append(label);
    shapes.calls.set(callKey(c), {line, label, rpc: c.rpc});
  }
  for (const e of map.edges) {
    if (!at.has(e.from) || !at.has(e.to)) continue;
    const pair = `${e.from}>${e.to}`;
    if (!shapes.pairs.has(pair)) {
      const path = curve(at.get(e.from), at.get(e.to), -1);
      const line = svg("path", {d: path.d, class: "event", "marker-end": "url(#arrow-event)"});
      const title = svg("title");
      line.append(title);
      const label = svg("text", {x: path.mx - 3, y: path.my + 4, class: "label event",
        "text-anchor": "end"}, "");
      lines.append(line);
      labels.append(label);
      shapes.pairs.set(pair, {line, label, title, events: []});
    }
    const shape = shapes.pairs.get(pair);
    shape.events.push(e.event);
    shape.title.textContent = `${e.from} \u2192 ${e.to}: ${shape.events.join(", ")}`;
  }
  for (const [id, p] of at) {
    const base = p.away ? "node away" : p.process ? "node remote" : "node";
    const g = svg("g", {class: p.away ? base : `${base} starting`, "data-node": id});
    g.append(svg("rect", {x: p.x, y: p.y, width: NODE_W, height: NODE_H, rx: 6}));
    const short = id.includes(".") ? id.slice(id.indexOf(".") + 1) : id;
    g.append(svg("text", {x: p.x + 8, y: p.y + 16, class: "id"}, p.away ? id : short));
    const detail = svg("text", {x: p.x + 8, y: p.y + 29, class: "detail"},
      p.away ? "run elsewhere" : "");
    g.append(detail);
    g.append(svg("title", {}, p.process ? `${id} (run at ${p.process})` : id));
    boxes.append(g);
    shapes.nodes.set(id, {g, detail, base});
  }
}

// Forgets what is drawn, for a newer map.
function clear() {
  for (const table of Object.values(rows)) table.clear();
  for (const table of Object.values(shapes)) table.clear();
  for (const id of ["#contexts", "#calls", "#edges"]) $(`${id} tbody`).replaceChildren();
  $("#map").replaceChildren();
}

async function draw() {
  const map = await (await fetch("/console/map")).json();
  clear();
  drawTables(map);
  drawMap(map);
  drawn.version = map.version;
}

// The map changed (a peer answered for the first time, or runs other contexts now).
async function redraw() {
  if (drawn.fetching) return;
  drawn.fetching = true;
  try { await draw(); } catch (error) { /* the next snapshot asks again */ }
  drawn.fetching = false;
}

const fmt = (n) => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));

function applyContexts(snapshot, alerts) {
  for (const [id, f] of Object.entries(snapshot.contexts)) {
    const r = rows.contexts.get(id), node = shapes.nodes.get(id);
    if (!r) continue;
    const health = f.unreachable ? "unreachable"
      : f.ready === null ? "starting" : f.ready ? "ready" : "NOT READY";
    r.tds.health.textContent = health;
    r.tr.classList.toggle("unreachable", !!f.unreachable);
    r.tds.calls.textContent = fmt(f.callsPerSec);
    // The bound of the histogram bucket the 99th percentile falls in, hence "at most".
    r.tds.p99.textContent = f.p99Ms === null ? "-" : `\u2264${fmt(f.p99Ms)} ms`;
    r.tds.outbox.textContent = f.outbox;
    r.tds.lag.textContent = f.lag === null ? "-" : f.lagGrowing ? `${f.lag} growing` : `${f.lag}`;
    r.tds.letters.textContent = f.deadLetters;
    r.tr.classList.toggle("down", f.ready === false);
    r.tr.classList.toggle("lag", f.lagGrowing);
    r.tr.classList.toggle("letters", f.deadLetters > 0);
    if (f.ready === false) alerts.push(`${id} not ready`);
    if (f.lagGrowing) alerts.push(`${id} lag growing (${f.lag})`);
    if (f.deadLetters > 0) alerts.push(`${id}: ${f.deadLetters} dead letter${f.deadLetters > 1 ? "s" : ""}`);
    if (node && f.unreachable) {
      node.g.setAttribute("class", `${node.base} unreachable`);
      node.detail.textContent = "unreachable";
    } else if (node) {
      node.g.setAttribute("class", [node.base, f.ready === null ? "starting" : f.ready ? "ready" : "down",
        f.lagGrowing ? "lag" : "", f.deadLetters > 0 ? "letters" : ""].join(" ").trim());
      const parts = [`${fmt(f.callsPerSec)}/s`];
      if (f.p99Ms !== null) parts.push(`p99 \u2264${fmt(f.p99Ms)}ms`);
      if (f.lag) parts.push(f.lagGrowing ? `lag ${f.lag}\u2191` : `lag ${f.lag}`);
      if (f.deadLetters) parts.push(`${f.deadLetters} dead`);
      node.detail.textContent = parts.join(" \u00b7 ");
    }
  }
}

function applyCalls(snapshot, alerts) {
  for (const c of snapshot.calls) {
    const key = callKey(c), r = rows.calls.get(key), shape = shapes.calls.get(key);
    if (!r || !shape) continue;
    r.tds.breaker.textContent = c.breaker;
    r.tr.dataset.breaker = c.breaker;
    // "unknown": the caller runs in a peer that does not answer.
    const quiet = c.breaker === "closed" || c.breaker === "unknown";
    const cls = c.breaker === "closed" ? "call" : c.breaker === "unknown" ? "call unknown"
      : c.breaker === "open" ? "call open" : "call half";
    shape.line.setAttribute("class", cls);
    shape.line.setAttribute("marker-end", quiet ? "url(#arrow-call)" : "url(#arrow-open)");
    shape.label.setAttribute("class", `label ${cls}`);
    shape.label.textContent = quiet ? "" : `${shape.rpc} ${c.breaker.toUpperCase()}`;
    if (!quiet) alerts.push(`breaker ${c.breaker}: ${c.from} \u2192 ${c.to}`);
  }
}

function applyEdges(snapshot) {
  const pairs = new Map();
  for (const e of snapshot.edges) {
    const r = rows.edges.get(edgeKey(e));
    if (!r) continue;
    r.tds.rate.textContent = fmt(e.rate);
    r.tr.classList.toggle("flowing", e.rate > 0);
    r.rate = e.rate;
    const pair = `${e.from}>${e.to}`;
    pairs.set(pair, (pairs.get(pair) || 0) + e.rate);
  }
  for (const [pair, rate] of pairs) {
    const shape = shapes.pairs.get(pair);
    if (!shape) continue;
    shape.line.style.strokeWidth = rate > 0 ? 1.5 + Math.min(4, Math.log10(1 + rate) * 1.6) : "";
    shape.line.classList.toggle("flowing", rate > 0);
    shape.label.textContent = rate > 0 ? `${fmt(rate)}/s` : "";
  }
  // Edges that carry events first, busiest on top; the idle ones after, in map order.
  const tbody = $("#edges tbody");
  const ordered = [...rows.edges.values()].map((r, i) => ({r, i}))
    .sort((a, b) => (b.r.rate || 0) - (a.r.rate || 0) || a.i - b.i);
  ordered.forEach(({r}, i) => { if (tbody.children[i] !== r.tr) tbody.insertBefore(r.tr, tbody.children[i]); });
}

function applyLetters(snapshot) {
  const tbody = $("#letters tbody");
  const seen = new Set();
  for (const l of snapshot.deadLetters) {
    const key = `${l.context}/${l.consumer}/${l.eventId}`;
    seen.add(key);
    if (tbody.querySelector(`tr[data-letter="${CSS.escape(key)}"]`)) continue;
    const r = row(tbody, key, "data-letter", [
      ["context", l.context], ["consumer", l.consumer], ["subject", l.subject],
      ["id", l.eventId, "mono"], ["error", l.error, "error"], ["deliveries", l.deliveries, "n"],
      ["at", l.failedAt], ["action", ""],
    ]);
    const button = el("button", {type: "button", class: "replay"}, "Replay");
    button.addEventListener("click", () => replay(l, button));
    r.tds.action.append(button);
  }
  for (const tr of [...tbody.querySelectorAll("tr")]) {
    if (!seen.has(tr.dataset.letter)) tr.remove();
  }
  $("#letters-none").hidden = snapshot.deadLetters.length > 0;
  $("#letters").hidden = snapshot.deadLetters.length === 0;
}

// A replay goes through the same function as `mediamesh deadletters replay`; the header
// tells the admin port it comes from this page.
async function replay(letter, button) {
  button.disabled = true;
  button.textContent = "Replaying";
  const result = $("#replay-result");
  try {
    const response = await fetch("/console/replay", {
      method: "POST",
      headers: {"Content-Type": "application/json", "X-Mediamesh-Console": "replay"},
      body: JSON.stringify({context: letter.context, eventId: letter.eventId}),
    });
    const body = await response.json();
    if (!response.ok) throw new Error(body.error || response.statusText);
    result.textContent = `${letter.eventId}: ${body.replayed} back in the ${letter.context} outbox`;
  } catch (error) {
    result.textContent = `${letter.eventId}: replay failed: ${error.message}`;
    button.disabled = false;
    button.textContent = "Replay";
  }
}

// Admin peers that do not answer are named in the header; their dead letters are listed
// and replayed on their own consoles, linked below the local ones.
function applyPeers(snapshot, alerts) {
  const peers = snapshot.peers || [];
  for (const p of peers) {
    if (p.state === "unreachable") alerts.push(`${p.url} unreachable (${p.error || "no answer"})`);
  }
  const urls = peers.map((p) => p.url).join(" ");
  if (urls === drawn.peers) return;
  drawn.peers = urls;
  const note = $("#letters-elsewhere");
  note.replaceChildren();
  note.hidden = peers.length === 0;
  if (!peers.length) return;
  note.append("Dead letters of contexts run in other processes are listed and replayed on their own console: ");
  peers.forEach((p, i) => {
    if (i) note.append(", ");
    note.append(consoleLink(p.url));
  });
}

function apply(snapshot) {
  if (snapshot.mapVersion !== undefined && drawn.version !== null
      && snapshot.mapVersion !== drawn.version) redraw();
  const alerts = [];
  applyPeers(snapshot, alerts);
  applyContexts(snapshot, alerts);
  applyCalls(snapshot, alerts);
  applyEdges(snapshot);
  applyLetters(snapshot);
  const box = $("#alerts");
  box.textContent = alerts.length ? alerts.join(" \u00b7 ") : "all clear";
  box.classList.toggle("bad", alerts.length > 0);
  $("#clock").textContent = new Date(snapshot.at).toLocaleTimeString();
  document.body.dataset.ticks = String(Number(document.body.dataset.ticks || 0) + 1);
}

async function main() {
  await draw();
  document.body.dataset.ready = "true";
  const status = $("#status");
  const source = new EventSource("/console/stream");
  source.onopen = () => { status.textContent = "live"; status.className = "status live"; };
  source.onerror = () => { status.textContent = "reconnecting"; status.className = "status lost"; };
  source.onmessage = (message) => apply(JSON.parse(message.data));
}

main().catch((error) => {
  const status = $("#status");
  status.textContent = `failed: ${error.message}`;
  status.className = "status lost";
});
