"use strict";
// The charts of the fleet and asset pages (uPlot and one canvas heat map) and the formatters
// they share with app.js, which loads after this file. No API calls here: app.js fetches and
// passes the answers in.
const HOLD_LANES = 0.06;  // height of the offer and booking lanes, share of the plot
// Okabe-Ito; the band is vermilion at 30 % on white, opaque so lanes drawn later stay clear.
const COLOURS = { util: "#0072b2", fc: "#d55e00", band: "#f2cfb2", idle: "rgba(86,180,233,0.25)",
  offer: "#e69f00", booking: "#cc79a7", last: "#999999" };
// Viridis stops: a sequential scale readable with every common colour-vision deficiency.
const VIRIDIS = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];

const pct = (x) => (x === null || x === undefined ? "–" : (x * 100).toFixed(1) + " %");
const fmtNum = (x, digits = 1) => Number(x).toLocaleString("en", { maximumFractionDigits: digits });
const fmtTime = (iso) => new Date(iso).toLocaleString("en-GB", { dateStyle: "short", timeStyle: "short", timeZone: "UTC" }) + " UTC";
const epoch = (iso) => new Date(iso).getTime() / 1000;
const isoAt = (s) => new Date(s * 1000).toISOString();
const kindName = (k) => k.replaceAll("_", " ");

// ---- fleet -------------------------------------------------------------------------------

const charts = [];
function dropCharts() { while (charts.length) charts.pop().destroy(); }

function kindsChart(kinds, before) {
  const box = $("kinds-chart");
  box.replaceChildren();
  if (!kinds.length) return;
  const xs = kinds.map((_, i) => i);
  const last = kinds.map((k) => (before.get(k.kind)?.utilisation ?? null));
  const now = kinds.map((k) => k.utilisation);
  const opts = {
    width: Math.min(box.clientWidth || 700, 900), height: 220,
    scales: { x: { time: false, range: [-0.6, kinds.length - 0.4] }, y: { range: [0, 1] } },
    axes: [
      { values: (u, ticks) => ticks.map((t) => (Number.isInteger(t) && kinds[t] ? kindName(kinds[t].kind) : "")), splits: () => xs },
      { values: (u, ticks) => ticks.map((t) => Math.round(t * 100) + " %") },
    ],
    series: [
      {},
      // Side by side: each series' bars on one side of the kind's tick.
      { label: "last week", stroke: COLOURS.last, fill: COLOURS.last, points: { show: false },
        paths: uPlot.paths.bars({ size: [0.35, 60], align: -1 }), value: (u, v) => pct(v) },
      { label: "this week", stroke: COLOURS.util, fill: COLOURS.util, points: { show: false },
        paths: uPlot.paths.bars({ size: [0.35, 60], align: 1 }), value: (u, v) => pct(v) },
    ],
    legend: { show: true },
    cursor: { show: false },
  };
  charts.push(new uPlot(opts, [xs, last, now], box));
}

// ---- asset -------------------------------------------------------------------------------

// Shades idle windows and draws offers and bookings as lanes at the top of the plot, on the
// chart's own time axis, so zooming moves them with the lines.
function spansPlugin(spans) {
  function draw(u) {
    const ctx = u.ctx, top = u.bbox.top, h = u.bbox.height, lane = Math.max(6, h * HOLD_LANES);
    const x = (s) => Math.round(u.valToPos(s, "x", true));
    ctx.save();
    ctx.beginPath();
    ctx.rect(u.bbox.left, top, u.bbox.width, h);
    ctx.clip();
    for (const w of spans.idle) { ctx.fillStyle = COLOURS.idle; ctx.fillRect(x(w[0]), top, Math.max(1, x(w[1]) - x(w[0])), h); }
    for (const o of spans.offers) { ctx.fillStyle = COLOURS.offer; ctx.fillRect(x(o[0]), top, Math.max(2, x(o[1]) - x(o[0])), lane); }
    for (const b of spans.bookings) { ctx.fillStyle = COLOURS.booking; ctx.fillRect(x(b[0]), top + lane + 2, Math.max(2, x(b[1]) - x(b[0])), lane); }
    ctx.restore();
  }
  return { hooks: { drawAxes: [draw] } };
}

// The forecast band: per slot, expected use between the median and the P10 of the free
// quantity its hours had in the past days (use = 1 − free / capacity, so P10 free is the top).
// Filled under the lines and lanes, at least 2 px high so a steady history still shows.
function bandPlugin(slots, capacity) {
  const use = (free) => Math.min(1, Math.max(0, 1 - free / capacity));
  function draw(u) {
    const x = (s) => Math.round(u.valToPos(s, "x", true)), y = (v) => Math.round(u.valToPos(v, "y", true));
    const ctx = u.ctx;
    ctx.save();
    ctx.beginPath();
    ctx.rect(u.bbox.left, u.bbox.top, u.bbox.width, u.bbox.height);
    ctx.clip();
    ctx.fillStyle = COLOURS.band;
    for (const s of slots) {
      if (s.p10 === null || s.median === null) continue;
      const top = y(use(s.p10)), bottom = y(use(s.median));
      const x0 = x(epoch(s.start));
      ctx.fillRect(x0, Math.min(top, bottom - 2), Math.max(1, x(epoch(s.end)) - x0), Math.max(2, bottom - top));
    }
    ctx.restore();
  }
  return { hooks: { drawAxes: [draw] } };
}

function usageChart(util, forecast, spans, capacity) {
  const box = $("usage-chart");
  box.replaceChildren();
  // One x axis: the buckets, then the forecast slots' starts and ends (a step each).
  const xs = util.points.map((p) => epoch(p.start));
  const actual = util.points.map((p) => p.utilisation);
  const fc = xs.map(() => null);
  // Each slot a step from its start to its end, then a gap: no forecast between slots.
  for (const s of forecast.slots) {
    const use = Math.max(0, 1 - s.quantity / capacity);
    for (const [t, v] of [[epoch(s.start), use], [epoch(s.end) - 1, use], [epoch(s.end), null]]) {
      xs.push(t);
      actual.push(null);
      fc.push(v);
    }
  }
  const order = xs.map((_, i) => i).sort((a, b) => xs[a] - xs[b]);
  const data = [order.map((i) => xs[i]), order.map((i) => actual[i]), order.map((i) => fc[i])];
  const ends = [...spans.offers, ...spans.bookings].map((s) => s[1]);
  const xMax = Math.max(data[0][data[0].length - 1] || 0, ...ends);
  const opts = {
    width: Math.min(box.clientWidth || 900, 1200), height: 300,
    scales: { x: { time: true, range: (u, lo) => [lo, xMax] }, y: { range: [0, 1] } },
    axes: [{}, { values: (u, ticks) => ticks.map((t) => Math.round(t * 100) + " %") }],
    series: [
      { value: (u, v) => (v === null ? "–" : fmtTime(isoAt(v))) },
      { label: "utilisation", stroke: COLOURS.util, fill: "rgba(0,114,178,0.15)", width: 2, spanGaps: false,
        value: (u, v) => pct(v) },
      { label: "forecast", stroke: COLOURS.fc, dash: [6, 4], width: 2, paths: uPlot.paths.stepped({ align: 1 }),
        value: (u, v) => pct(v) },
    ],
    plugins: [bandPlugin(forecast.slots, capacity), spansPlugin(spans)],
    cursor: { drag: { x: true, y: false } },
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
  };
  charts.push(new uPlot(opts, data, box));
}

// Mean utilisation per hour of the week (Monday 00 first), from hourly buckets.
function heatmap(points) {
  const sums = new Array(168).fill(0), counts = new Array(168).fill(0);
  for (const p of points) {
    if (p.utilisation === null) continue;
    const d = new Date(p.start);
    const slot = ((d.getUTCDay() + 6) % 7) * 24 + d.getUTCHours();
    sums[slot] += p.utilisation;
    counts[slot] += 1;
  }
  const canvas = $("heatmap"), ctx = canvas.getContext("2d");
  const left = 40, top = 18, cw = (canvas.width - left - 4) / 24, ch = (canvas.height - top - 4) / 7;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.fillStyle = "#5d6675";
  ctx.font = "11px system-ui, sans-serif";
  ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"].forEach((d, i) => ctx.fillText(d, 4, top + i * ch + ch / 2 + 4));
  for (let h = 0; h < 24; h += 3) ctx.fillText(String(h).padStart(2, "0"), left + h * cw + 2, 12);
  let known = 0;
  for (let i = 0; i < 168; i++) {
    const x = left + (i % 24) * cw, y = top + Math.floor(i / 24) * ch;
    if (!counts[i]) { ctx.fillStyle = "#e4e7ec"; } else { ctx.fillStyle = viridis(sums[i] / counts[i]); known++; }
    ctx.fillRect(x + 1, y + 1, cw - 2, ch - 2);
  }
  canvas.setAttribute("aria-label", `Heat map of mean utilisation for each hour of the week (${known} of 168 hours with data)`);
}

function viridis(v) {
  const t = Math.min(1, Math.max(0, v)) * (VIRIDIS.length - 1), i = Math.min(VIRIDIS.length - 2, Math.floor(t));
  const f = t - i, a = VIRIDIS[i], b = VIRIDIS[i + 1];
  return `rgb(${a.map((c, k) => Math.round(c + (b[k] - c) * f)).join(",")})`;
}
