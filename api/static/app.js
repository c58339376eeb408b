"use strict";
// The fleet and asset pages. Every API call is api(METHOD, path), allItems(path) or
// csv(path), the path a literal that starts with v1/: tests/api/routes/test_web.py reads them
// and checks each against the app's routes. Text from the API goes in as text, never HTML.
const WEEK_S = 7 * 86400;
const DAY_S = 86400;

const csv = async (path) => (await request("GET", path)).text();

const enc = encodeURIComponent;

function showStatus(kind, text) {
  const s = $("status");
  s.className = kind;
  s.textContent = text;
}

function fill(tbody, rows, columns, emptyText) {
  tbody.replaceChildren();
  if (!rows.length) tbody.append(el("tr", {}, el("td", { colspan: String(columns), class: "muted" }, emptyText)));
  for (const r of rows) tbody.append(r);
}

function statusCell(online) {
  return el("span", {}, el("span", { class: "dot " + (online ? "on" : "off") }), online ? "online" : "offline");
}

// ---- fleet -------------------------------------------------------------------------------

async function loadFleet() {
  const end = Date.now() / 1000;
  const [thisWeek, lastWeek, assets, offers, impact] = await Promise.all([
    api("GET", `v1/kpis?start=${isoAt(end - WEEK_S)}&end=${isoAt(end)}`),
    api("GET", `v1/kpis?start=${isoAt(end - 2 * WEEK_S)}&end=${isoAt(end - WEEK_S)}`),
    allItems("v1/assets"),
    allItems("v1/offers?status=any"),
    api("GET", `v1/impact?start=${isoAt(end - WEEK_S)}&end=${isoAt(end + WEEK_S)}`),
  ]);
  const before = new Map(lastWeek.kinds.map((k) => [k.kind, k]));
  fill($("kinds"), thisWeek.kinds.map((k) => {
    const prev = before.get(k.kind)?.utilisation ?? null;
    const change = k.utilisation !== null && prev !== null ? ((k.utilisation - prev) * 100).toFixed(1) + " pt" : "–";
    return el("tr", { "data-kind": k.kind }, td(kindName(k.kind)), td(k.assets, "num"),
      td(pct(k.utilisation), "num util-now"), td(pct(prev), "num util-last"), td(change, "num"),
      td(pct(k.idle_share), "num"));
  }), 6, "No readings in the last 7 days.");
  kindsChart(thisWeek.kinds, before);
  $("offers-live").textContent = offers.filter((o) => o.status === "live").length;
  $("offers-booked").textContent = offers.filter((o) => o.available < o.quantity).length;
  // Confirmed bookings starting in the last or the next 7 days, at their offers' prices.
  const revenue = Object.entries(impact.total.revenue);
  $("revenue").textContent = revenue.length
    ? revenue.map(([currency, amount]) => fmtNum(amount, 2) + " " + currency).join(" · ") : "–";
  $("assets-offline").textContent = assets.filter((a) => !a.online).length;
  $("alerts-active").textContent = (await allItems("v1/alerts")).filter((a) => a.active).length;
  await loadSites(end);
  const perAsset = new Map(thisWeek.assets.map((a) => [a.asset, a]));
  fill($("fleet-assets"), assets.map((a) => {
    const k = perAsset.get(a.id);
    const link = el("a", { href: "app#/asset/" + enc(a.id) }, a.name || a.id);
    return el("tr", { "data-asset": a.id }, el("td", {}, link), td(kindName(a.kind)),
      el("td", {}, statusCell(a.online)), td(pct(k ? k.utilisation : null), "num"),
      td(pct(k ? k.idle_share : null), "num"));
  }), 5, "No assets for this key.");
}

// One row per site and kind: each site's KPIs this week and the week before.
async function loadSites(end) {
  const sites = await allItems("v1/sites");
  const rows = await Promise.all(sites.map(async (site) => {
    const s = enc(site.id);
    const [now, before] = await Promise.all([
      api("GET", `v1/kpis?site=${s}&start=${isoAt(end - WEEK_S)}&end=${isoAt(end)}`),
      api("GET", `v1/kpis?site=${s}&start=${isoAt(end - 2 * WEEK_S)}&end=${isoAt(end - WEEK_S)}`),
    ]);
    const last = new Map(before.kinds.map((k) => [k.kind, k.utilisation]));
    if (!now.kinds.length) return [el("tr", { "data-site": site.id }, td(site.name || site.id), td("–"), td("0", "num"), td("–", "num"), td("–", "num"), td("–", "num"))];
    return now.kinds.map((k) => el("tr", { "data-site": site.id, "data-kind": k.kind },
      td(site.name || site.id), td(kindName(k.kind)), td(k.assets, "num"), td(pct(k.utilisation), "num util-now"),
      td(pct(last.get(k.kind) ?? null), "num util-last"), td(pct(k.idle_share), "num")));
  }));
  fill($("sites"), rows.flat(), 6, "No sites yet: owners create them with POST /v1/sites.");
}

// ---- asset -------------------------------------------------------------------------------

const RANGES = { "7h": [7, "hour"], "30h": [30, "hour"], "30d": [30, "day"] };
let current = null;  // { id, asset, range }

function timeline(offers, bookings, unit) {
  const rows = [
    ...offers.map((o) => ({ start: o.start, row: el("tr", { "data-offer": o.id }, td("offer #" + o.id), td(o.status),
      td(fmtTime(o.start) + " – " + fmtTime(o.end)), td(fmtNum(o.available) + " of " + fmtNum(o.quantity) + " " + unit, "num")) })),
    ...bookings.map((b) => ({ start: b.start, row: el("tr", { "data-booking": b.id }, td("booking #" + b.id + " by " + b.tenant),
      td(b.status), td(fmtTime(b.start) + " – " + fmtTime(b.end)), td(fmtNum(b.quantity) + " " + unit, "num")) })),
  ].sort((a, b) => epoch(a.start) - epoch(b.start));
  fill($("timeline"), rows.map((r) => r.row), 4, "No offers or bookings for this asset.");
}

// The forecast slots as text: the band's figures (the chart's text equivalent).
function forecastTable(forecast) {
  const q = (x) => (x === null ? "–" : fmtNum(x, 3));
  fill($("forecast"), forecast.slots.map((s) => el("tr", { "data-slot": s.start },
    td(fmtTime(s.start) + " – " + fmtTime(s.end)), td(q(s.quantity), "num"), td(q(s.p10), "num"),
    td(q(s.median), "num"), td(pct(s.confidence), "num"))), 5, "No forecast slots: nothing would be offered now.");
  $("forecast-unit").textContent = forecast.unit;
}

function rangeQuery() {
  const [days, bucket] = RANGES[$("range-select").value];
  const end = Date.now() / 1000;
  return { start: isoAt(end - days * DAY_S), end: isoAt(end), bucket };
}

async function loadAsset(id) {
  const a = enc(id);
  const r = rangeQuery();
  const weekStart = isoAt(Date.now() / 1000 - 4 * WEEK_S);
  const [asset, status, util, forecast, kpis, windows, offers, bookings, weeks] = await Promise.all([
    api("GET", `v1/assets/${a}`),
    api("GET", `v1/assets/${a}/status`),
    api("GET", `v1/assets/${a}/utilisation?bucket=${r.bucket}&start=${r.start}&end=${r.end}`),
    api("GET", `v1/assets/${a}/forecast`),
    api("GET", `v1/kpis?asset=${a}`),
    allItems(`v1/idle-windows?asset=${a}&start=${r.start}`),
    allItems(`v1/offers?asset=${a}&status=any`),
    allItems("v1/bookings"),
    api("GET", `v1/assets/${a}/utilisation?bucket=hour&start=${weekStart}`),
  ]);
  current = { id, asset, range: r };
  $("usage-chart").dataset.start = r.start;  // what the chart and the exports asked for
  $("usage-chart").dataset.end = r.end;
  $("asset-title").textContent = (asset.name || asset.id) + " · " + kindName(asset.kind) + " · " +
    fmtNum(asset.capacity) + " " + asset.unit;
  $("asset-status").replaceChildren(statusCell(status.online));
  $("last-reading").textContent = status.last_reading_at ? fmtTime(status.last_reading_at) : "none in 7 days";
  // The agent's outbox as its latest status reported it: readings waiting, readings lost.
  $("agent-queued").textContent = status.queued === null ? "–" : fmtNum(status.queued, 0);
  $("agent-dropped").textContent = status.dropped === null ? "–" : fmtNum(status.dropped, 0);
  $("agent-dropped").classList.toggle("warn", Boolean(status.dropped));
  $("agent-reported").textContent = status.agent_reported_at
    ? `agent ${status.agent}, reported ${fmtTime(status.agent_reported_at)}` : "no agent status";
  const k = kpis.assets.find((x) => x.asset === id);
  $("kpi-utilisation").textContent = pct(k ? k.utilisation : null);
  $("kpi-idle").textContent = pct(k ? k.idle_share : null);
  const mine = bookings.filter((b) => b.asset === id && b.owner === asset.tenant);
  const live = mine.filter((b) => b.status === "held" || b.status === "confirmed");
  const spans = {
    idle: windows.map((w) => [epoch(w.start), epoch(w.end)]),
    offers: offers.filter((o) => o.status === "live").map((o) => [epoch(o.start), epoch(o.end)]),
    bookings: live.map((b) => [epoch(b.start), epoch(b.end)]),
  };
  usageChart(util, forecast, spans, asset.capacity);
  forecastTable(forecast);
  heatmap(weeks.points);
  timeline(offers, mine, asset.unit);
  await Promise.all([loadPolicy(id), loadAlerts(id)]);
}

// ---- alerts ------------------------------------------------------------------------------

const RULE_TEXT = {
  offline: (r) => `offline for more than ${r.minutes} min`,
  utilisation_above: (r) => `utilisation above ${pct(r.threshold)} over ${r.minutes} min`,
  utilisation_below: (r) => `utilisation below ${pct(r.threshold)} over ${r.minutes} min`,
  agent_dropping: (r) => `the agent dropped readings in the last ${r.minutes} min`,
  offer_booked: () => "an offer is booked",
  offer_cancelled: () => "a booking is cancelled",
};

async function loadAlerts(id) {
  const [fired, rules] = await Promise.all([
    allItems(`v1/alerts?asset=${enc(id)}`),
    api("GET", "v1/alert-rules"),
  ]);
  fill($("alerts"), fired.map((a) => el("tr", { "data-alert": a.id }, td(fmtTime(a.at)), td(a.kind.replaceAll("_", " ")),
    td(a.message), td(a.active ? "active" : a.cleared_at ? "cleared " + fmtTime(a.cleared_at) : "event"))),
  4, "No alerts for this asset.");
  const mine = rules.filter((r) => r.asset === id || r.asset === "");
  $("rules").replaceChildren(...mine.map((r) => {
    const drop = el("button", { type: "button", class: "small plain", "aria-label": "delete rule " + r.id }, "Delete");
    drop.addEventListener("click", async () => {
      await api("DELETE", `v1/alert-rules/${r.id}`).catch((err) => showStatus("error", err.message));
      await loadAlerts(id);
    });
    return el("li", { "data-rule": r.id }, RULE_TEXT[r.kind](r) + (r.asset ? "" : " (every asset)") + " ", drop);
  }));
  if (!mine.length) $("rules").append(el("li", { class: "muted" }, "none"));
}

async function addRule(ev) {
  ev.preventDefault();
  const body = { kind: $("rule-kind").value, asset: current.id,
    minutes: Number($("rule-minutes").value), threshold: Number($("rule-threshold").value) };
  if (body.kind.startsWith("offer")) { body.minutes = 0; body.threshold = 0; }
  if (!body.kind.startsWith("utilisation")) body.threshold = 0;
  try {
    await api("POST", "v1/alert-rules", body);
    $("rule-result").textContent = "Rule added.";
    await loadAlerts(current.id);
  } catch (err) {
    $("rule-result").textContent = "Not added (" + err.status + "): " + err.message;
  }
}

// ---- sharing policy ----------------------------------------------------------------------

// The rules of api/schemas/assets.py PolicyBody (what PUT /v1/assets/{id}/policy accepts);
// cross-key rules and the time zone's existence are the API's to check: its 422 lands here too.
const POLICY = [
  { key: "min_free_fraction", label: "Idle when free share ≥", type: "number", check: (v) => v > 0 && v <= 1, rule: "above 0, at most 1" },
  { key: "min_duration_s", label: "Shortest idle window, s", type: "number", check: (v) => v > 0 && v <= 366 * 86400, rule: "above 0, at most 366 days" },
  { key: "reserve_fraction", label: "Share kept back", type: "number", check: (v) => v >= 0 && v < 1, rule: "at least 0, below 1" },
  { key: "min_quantity", label: "Smallest offer quantity", type: "number", check: (v) => v >= 0 && v <= 1e9, rule: "0 to 1e9" },
  { key: "price_per_unit_hour", label: "Price per unit·hour", type: "number", check: (v) => v >= 0 && v <= 1e6, rule: "0 to 1e6" },
  { key: "currency", label: "Currency", type: "text", check: (v) => /^[A-Z]{3}$/.test(v), rule: "three capital letters, e.g. EUR" },
  { key: "visibility", label: "Visible to", type: "select", options: ["private", "group", "partners", "public"] },
  { key: "timezone", label: "Time zone (IANA)", type: "text", check: (v) => v.length >= 1 && v.length <= 64, rule: "an IANA time zone, e.g. Europe/Berlin" },
  { key: "blackout_hours", label: "Blackout hours (0–23, comma-separated)", type: "list", item: (s) => /^\d{1,2}$/.test(s) && Number(s) <= 23, max: 24, rule: "hours 0 to 23", parse: Number },
  { key: "lead_time_s", label: "Lead time, s", type: "number", check: (v) => v >= 0 && v <= 30 * 86400, rule: "0 to 30 days" },
  { key: "capabilities", label: "Capabilities (comma-separated)", type: "list", item: (s) => /^[a-z0-9_-]{1,32}$/.test(s), max: 32, rule: "lower-case words: a-z, 0-9, _ and -", parse: String },
  { key: "planned_use", label: "Planned use: iCalendar feed URLs (comma-separated)", type: "list", item: (s) => /^https:\/\/\S+$/.test(s), max: 16, rule: "https:// URLs", parse: String },
  { key: "price_per_tonne", label: "Leg offers: price per tonne (empty: none)", type: "number", optional: true, check: (v) => v >= 0 && v <= 1e6, rule: "0 to 1e6" },
];
let policyState = null;  // { overrides, effective }

function fieldValue(spec, raw) {
  const text = raw.trim();
  if (spec.type === "number") {
    if (spec.optional && text === "") return { value: null };  // unset: the default (none)
    const v = Number(text);
    return text !== "" && Number.isFinite(v) && spec.check(v) ? { value: v } : { error: "must be a number " + spec.rule };
  }
  if (spec.type === "list") {
    const parts = text ? text.split(/[\s,]+/).filter(Boolean) : [];
    if (parts.length > spec.max || !parts.every(spec.item)) return { error: "must be " + spec.rule + ", at most " + spec.max };
    return { value: parts.map(spec.parse) };
  }
  if (spec.type === "select") return { value: text };
  return spec.check(text) ? { value: text } : { error: "must be " + spec.rule };
}

function setFieldError(key, text) {
  const input = $("policy-" + key), note = $("policy-" + key + "-error");
  if (!input || !note) return false;
  note.textContent = text || "";
  if (text) input.setAttribute("aria-invalid", "true"); else input.removeAttribute("aria-invalid");
  return true;
}

function renderPolicy(p) {
  const form = $("policy");
  form.replaceChildren();
  for (const spec of POLICY) {
    const id = "policy-" + spec.key, value = p.effective[spec.key];
    let input;
    if (spec.type === "select") {
      input = el("select", { id, name: spec.key, "aria-describedby": id + "-error" },
        ...spec.options.map((o) => { const opt = el("option", { value: o }, o); if (o === value) opt.selected = true; return opt; }));
    } else {
      input = el("input", { id, name: spec.key, type: "text", "aria-describedby": id + "-error",
        value: Array.isArray(value) ? value.join(", ") : String(value ?? "") });
      if (spec.type === "number") input.setAttribute("inputmode", "decimal");
    }
    form.append(el("div", {}, el("label", { for: id }, spec.label), input,
      el("div", { class: "field-error", id: id + "-error", "aria-live": "polite" })));
  }
  // Keys analytics reads that owners do not set (PolicyBody has none for them): shown only.
  const fixed = Object.keys(p.effective).filter((k) => !POLICY.some((s) => s.key === k));
  for (const key of fixed) {
    form.append(el("div", {}, el("span", { class: "muted" }, key.replaceAll("_", " ") + " (set by the platform)"),
      el("div", {}, JSON.stringify(p.effective[key]))));
  }
  form.append(el("div", { class: "actions" }, el("button", { type: "submit", id: "policy-save" }, "Save policy"),
    el("span", { id: "policy-result", class: "muted", role: "status" })));
  $("policy-note").textContent = Object.keys(p.overrides).length
    ? "overrides: " + Object.keys(p.overrides).join(", ") : "defaults only";
}

async function loadPolicy(id) {
  policyState = await api("GET", `v1/assets/${enc(id)}/policy`);
  renderPolicy(policyState);
}

async function savePolicy(ev) {
  ev.preventDefault();
  const body = {};
  let bad = false;
  for (const spec of POLICY) {
    const raw = $("policy-" + spec.key).value, got = fieldValue(spec, raw);
    setFieldError(spec.key, got.error);
    if (got.error) { bad = true; continue; }
    const before = policyState.effective[spec.key];
    // Send what the owner set before and what changed now; the rest keeps the defaults.
    if (spec.key in policyState.overrides || JSON.stringify(got.value) !== JSON.stringify(before)) body[spec.key] = got.value;
  }
  $("policy-result").textContent = bad ? "Not saved: fix the fields marked." : "Saving…";
  if (bad) return;
  try {
    policyState = await api("PUT", `v1/assets/${enc(current.id)}/policy`, body);
    renderPolicy(policyState);
    $("policy-result").textContent = "Saved. Offers follow at the next analysis; the forecast has changed already.";
    const forecast = await api("GET", `v1/assets/${enc(current.id)}/forecast`);
    $("policy-result").textContent += " " + forecast.slots.length + " forecast slots.";
  } catch (err) {
    const placed = err.status === 422 && Array.isArray(err.detail)
      ? err.detail.map((d) => setFieldError(d.loc[d.loc.length - 1], d.msg)).some(Boolean) : false;
    $("policy-result").textContent = "Not saved (" + err.status + ")" + (placed ? ": see the field marked." : ": " + err.message);
  }
}

// ---- exports -----------------------------------------------------------------------------

async function exportCsv(what) {
  const a = enc(current.id), r = current.range;
  const text = {
    utilisation: () => csv(`v1/exports/utilisation.csv?asset=${a}&bucket=${r.bucket}&start=${r.start}&end=${r.end}`),
    "idle-windows": () => csv(`v1/exports/idle-windows.csv?asset=${a}&start=${r.start}`),
    offers: () => csv(`v1/exports/offers.csv?asset=${a}&status=any`),
    bookings: () => csv(`v1/exports/bookings.csv?asset=${a}`),
  }[what];
  try {
    const blob = new Blob([await text()], { type: "text/csv" });
    const link = el("a", { href: URL.createObjectURL(blob), download: `${current.id}-${what}.csv` });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  } catch (err) {
    showStatus("error", `Export failed (${err.status}): ${err.message}`);
  }
}

// ---- routing -----------------------------------------------------------------------------

async function route() {
  dropCharts();
  if (!localStorage.getItem(KEY_ITEM)) {
    $("fleet-view").hidden = $("asset-view").hidden = true;
    showStatus("info", "Paste an owner or viewer API key above to see your fleet.");
    return;
  }
  const m = location.hash.match(/^#\/asset\/(.+)$/);
  $("fleet-view").hidden = Boolean(m);
  $("asset-view").hidden = !m;
  try {
    const tenant = await api("GET", "v1/tenant");
    $("who").textContent = "tenant " + (tenant.name || tenant.id);
    if (m) await loadAsset(decodeURIComponent(m[1])); else await loadFleet();
    showStatus("", "");
    document.body.dataset.loaded = m ? "asset" : "fleet";
  } catch (err) {
    showStatus("error", (err.status === 401 ? "The key was refused: " : "Could not load: ") + err.message);
  }
}

keyForm(route, route);
$("policy").addEventListener("submit", savePolicy);
$("alert-rule").addEventListener("submit", addRule);
$("range-select").addEventListener("change", () => { delete document.body.dataset.loaded; route(); });
for (const b of document.querySelectorAll("[data-export]")) b.addEventListener("click", () => exportCsv(b.dataset.export));
window.addEventListener("hashchange", () => { delete document.body.dataset.loaded; route(); });
route();
