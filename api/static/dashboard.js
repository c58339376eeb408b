"use strict";
// Every API call is api(METHOD, path) or allItems(path) (a GET), the path a literal that starts
// with v1/: tests/api/routes/test_web.py reads them and checks each against the app's routes.
const PARALLEL = 6;         // utilisation requests in flight at once
const SEARCH_PAGE = 200;    // offers per page of search results
const CHANGES_SHOWN = 50;   // recent offer changes listed
const CHANGE_CHUNK = 1000;  // feed positions read per request when reading back from the newest
const HOLD_S = 900;         // a hold lasts this long unless confirmed

// Who the key belongs to: filled by loadWho() before the sections load.
const who = { tenant: null, role: null };

const fmtTime = (iso) => new Date(iso).toLocaleString([], { dateStyle: "short", timeStyle: "short" });
const fmtNum = (x, digits = 1) => Number(x).toLocaleString([], { maximumFractionDigits: digits });
// "5/2/24, 6:00 PM – 8:00 PM", with the end's date only when it is another day.
function fmtSpan(startIso, endIso) {
  const start = new Date(startIso), end = new Date(endIso);
  const endText = start.toDateString() === end.toDateString()
    ? end.toLocaleTimeString([], { timeStyle: "short" }) : fmtTime(endIso);
  return fmtTime(startIso) + " – " + endText;
}
const pct = (x) => (x === null || x === undefined ? "–" : Math.round(x * 100) + " %");
const pill = (text) => el("span", { class: "pill " + text }, text);
const kindName = (k) => k.replaceAll("_", " ");

function fill(tbody, rows, columns, emptyText) {
  tbody.replaceChildren();
  if (!rows.length) {
    tbody.append(el("tr", {}, el("td", { colspan: String(columns), class: "empty" }, emptyText)));
  }
  for (const r of rows) tbody.append(r);
}

function showStatus(kind, text) {
  const s = $("status");
  s.className = kind;
  s.textContent = text;
}

const SVG = "http://www.w3.org/2000/svg";
function sparkline(points) {
  const w = 4, gap = 1, h = 26;
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("class", "spark");
  svg.setAttribute("width", String(points.length * (w + gap)));
  svg.setAttribute("height", String(h));
  points.forEach((p, i) => {
    const rect = document.createElementNS(SVG, "rect");
    const u = p.utilisation;
    const bh = u === null ? 2 : Math.max(1, Math.round(u * h));
    rect.setAttribute("x", String(i * (w + gap)));
    rect.setAttribute("y", String(h - bh));
    rect.setAttribute("width", String(w));
    rect.setAttribute("height", String(bh));
    rect.setAttribute("class", u === null ? "none" : "bar");
    const title = document.createElementNS(SVG, "title");
    title.textContent = fmtTime(p.start) + ": " + (u === null ? "no data" : pct(u));
    rect.append(title);
    svg.append(rect);
  });
  return svg;
}

async function loadWho() {
  const tenant = await api("GET", "v1/tenant");
  who.tenant = tenant.id;
  who.role = tenant.role;
  $("who").textContent = "tenant " + (tenant.name || tenant.id) + " · " + tenant.role + " key";
}

async function loadUtilisation(assets, cells) {
  let next = 0;
  async function worker() {
    while (next < assets.length) {
      const i = next++;
      const [sparkCell, latestCell] = cells[i];
      try {
        const u = await api("GET", `v1/assets/${encodeURIComponent(assets[i].id)}/utilisation?bucket=hour`);
        sparkCell.replaceChildren(sparkline(u.points));
        const known = u.points.filter((p) => p.utilisation !== null);
        latestCell.textContent = known.length ? pct(known[known.length - 1].utilisation) : "–";
      } catch (err) {
        sparkCell.textContent = err.status === 403 ? "not available for this key" : "unavailable";
        sparkCell.title = err.message;
      }
    }
  }
  await Promise.all(Array.from({ length: PARALLEL }, worker));
}

const assetNames = new Map();

async function loadAssets() {
  const assets = await allItems("v1/assets");
  $("assets-note").textContent = assets.length ? assets.length + " in your account" : "";
  const cells = [];
  const rows = assets.map((a) => {
    const spark = el("td", { class: "muted" }, "…");
    const latest = td("", "num");
    cells.push([spark, latest]);
    const state = el("td", {}, el("span", { class: "dot " + (a.online ? "on" : "off") }), a.online ? "online" : "offline");
    const label = el("td", {}, a.name || a.id, a.name ? el("div", { class: "muted" }, a.id) : "");
    return el("tr", {}, label, td(kindName(a.kind)), td(fmtNum(a.capacity) + " " + a.unit, "num"), state, spark, latest);
  });
  fill($("assets"), rows, 6, "No assets for this key.");
  assetNames.clear();
  for (const a of assets) assetNames.set(a.id, a.name || a.id);
  loadUtilisation(assets, cells);  // fills in as answers arrive
}

async function loadWindows() {
  const since = new Date(Date.now() - 7 * 86400e3).toISOString();
  const windows = await allItems("v1/idle-windows?start=" + encodeURIComponent(since));
  windows.reverse();  // newest first
  const rows = windows.map((w) => {
    const hours = (new Date(w.end) - new Date(w.start)) / 3600e3;
    return el("tr", {},
      td(assetNames.get(w.asset) || w.asset), td(fmtTime(w.start)), td(w.ongoing ? "now" : fmtTime(w.end)),
      td(fmtNum(hours), "num"), td(fmtNum(w.min_free) + " " + w.unit, "num"),
      td(fmtNum(w.mean_free) + " " + w.unit, "num"),
      el("td", {}, w.ongoing ? el("span", { class: "pill" }, "ongoing") : ""));
  });
  fill($("windows"), rows, 7, "No idle windows in the last 7 days.");
}

// The search form's fields carry the API's parameter names; empty ones are left out and
// "capability" is a comma-separated list sent as a repeated parameter.
function searchQuery() {
  const q = new URLSearchParams();
  for (const [name, value] of new FormData($("search"))) {
    const text = String(value).trim();
    if (!text) continue;
    if (name === "capability") {
      for (const c of text.split(/[\s,]+/).filter(Boolean)) q.append(name, c.toLowerCase());
    } else {
      q.append(name, text);
    }
  }
  return q.toString();
}

const canBook = (offer) => who.role === "platform" && offer.tenant !== who.tenant && offer.status === "live";

function offerRow(o) {
  const action = el("td");
  if (canBook(o)) {
    const qty = el("input", {
      type: "number", min: "0", step: "any", value: String(o.available), "aria-label": "quantity to hold",
    });
    const button = el("button", { type: "button" }, "Hold");
    button.addEventListener("click", () => holdOffer(o, Number(qty.value), button));
    action.append(qty, button);
  }
  return el("tr", {},
    td(o.tenant), td(o.asset), td(kindName(o.kind)),
    td(fmtNum(o.available) + " of " + fmtNum(o.quantity) + " " + o.unit, "num"),
    td(fmtSpan(o.start, o.end), "wrap"), td(pct(o.confidence), "num"),
    td(fmtNum(o.price_per_unit_hour, 2) + " " + o.currency, "num"),
    td(o.status === "live" ? o.visibility : o.visibility + " · " + o.status),
    td((o.capabilities || []).join(", ") || "–", "muted wrap"), action);
}

let offersCursor = null;
let offersShown = 0;

async function loadOffers(more = false) {
  const query = searchQuery();
  const cursorPart = more && offersCursor ? "&cursor=" + encodeURIComponent(offersCursor) : "";
  const page = await api("GET", `v1/offers?limit=${SEARCH_PAGE}&${query}` + cursorPart);
  const rows = page.items.map(offerRow);
  if (more) {
    for (const r of rows) $("offers").append(r);
  } else {
    fill($("offers"), rows, 10, "No offers visible to this key match the search.");
  }
  offersShown = (more ? offersShown : 0) + rows.length;
  offersCursor = page.next_cursor;
  $("offers-more").hidden = !offersCursor;
  $("offers-note").textContent = offersShown + (offersCursor ? "+" : "") + " shown";
  $("hold-head").textContent = who.role === "platform" ? "Hold for " + HOLD_S / 60 + " min" : "";
}

async function holdOffer(offer, quantity, button) {
  if (!(quantity > 0)) {
    showStatus("error", "Hold refused: enter a quantity above 0.");
    return;
  }
  button.disabled = true;
  try {
    const b = await api("POST", "v1/bookings", { offer_id: offer.id, quantity, hold_s: HOLD_S });
    showStatus("info", `Held ${fmtNum(b.quantity)} ${offer.unit} of offer ${offer.id} (${offer.asset}) ` +
      `until ${fmtTime(b.hold_expires_at)}: confirm it under Bookings.`);
  } catch (err) {
    showStatus("error", `Hold refused (${err.status}): ${err.message}`);
  } finally {
    button.disabled = false;
  }
  await reloadMarket();
}

async function bookingAction(b, action, call) {
  try {
    const after = await call();
    showStatus("info", `Booking ${b.id} is now ${after.status}.`);
  } catch (err) {
    showStatus("error", `Could not ${action} booking ${b.id} (${err.status}): ${err.message}`);
  }
  await reloadMarket();
}

function bookingRow(b) {
  const actions = el("td");
  const live = b.status === "held" || b.status === "confirmed";
  // Rules of api/bookings.py: only the booker confirms; the booker's platform key or the
  // asset owner's owner key cancels.
  if (b.status === "held" && who.role === "platform" && b.tenant === who.tenant) {
    const confirm = el("button", { type: "button" }, "Confirm");
    confirm.addEventListener("click", () => bookingAction(b, "confirm", () => api("POST", `v1/bookings/${b.id}/confirm`)));
    actions.append(confirm);
  }
  if (live && ((who.role === "platform" && b.tenant === who.tenant) || (who.role === "owner" && b.owner === who.tenant))) {
    const cancel = el("button", { type: "button", class: "plain" }, "Cancel");
    cancel.addEventListener("click", () => bookingAction(b, "cancel", () => api("POST", `v1/bookings/${b.id}/cancel`)));
    actions.append(cancel);
  }
  return el("tr", {},
    td("#" + b.id), el("td", {}, pill(b.status)),
    el("td", {}, "#" + b.offer_id + " · " + b.asset, el("div", { class: "muted" }, "owner " + b.owner)),
    td(b.tenant), td(fmtNum(b.quantity), "num"), td(fmtSpan(b.start, b.end)),
    td(b.hold_expires_at ? fmtTime(b.hold_expires_at) : "–"), actions);
}

async function loadBookings() {
  const page = await api("GET", "v1/bookings?limit=200");
  fill($("bookings"), page.items.map(bookingRow), 8, "No bookings by or on this tenant.");
  const held = page.items.filter((b) => b.status === "held").length;
  $("bookings-note").textContent = (page.next_cursor ? "newest 200" : page.items.length + " in all") +
    (held ? ", " + held + " held" : "");
}

// The change feed runs oldest first from a position and has no "newest" order. The snapshot's
// cursor is the newest position; read back from it a window of CHANGE_CHUNK positions at a
// time: a window holds at most CHANGE_CHUNK events, so one page of that size gets them all.
async function loadChanges() {
  const head = (await api("GET", "v1/feeds/offers?limit=1")).cursor;
  let recent = [];
  let upper = head;
  let windows = 0;
  while (upper > 0 && recent.length < CHANGES_SHOWN && windows < MAX_PAGES) {
    const after = Math.max(0, upper - CHANGE_CHUNK);
    const feed = await api("GET", `v1/feeds/offer-changes?after=${after}&limit=${CHANGE_CHUNK}`);
    recent = feed.items.filter((c) => c.cursor <= upper).concat(recent);
    upper = after;
    windows++;
  }
  const shown = recent.slice(-CHANGES_SHOWN).reverse();  // newest first
  const rows = shown.map((c) => {
    const o = c.offer;
    if (!o) {
      return el("tr", {}, td(fmtTime(c.at)), el("td", {}, pill(c.type)), td("#" + c.offer_id),
        el("td", { colspan: "5", class: "muted" }, "no longer visible to this key"));
    }
    return el("tr", {}, td(fmtTime(c.at)), el("td", {}, pill(c.type)), td("#" + c.offer_id),
      td(o.tenant), td(o.asset), td(fmtNum(o.available) + " of " + fmtNum(o.quantity) + " " + o.unit, "num"),
      td(fmtSpan(o.start, o.end)), td(o.status));
  });
  fill($("changes"), rows, 8, upper > 0 ? "No changes visible to this key lately." : "No offer changes yet.");
  $("changes-note").textContent = shown.length ? "newest " + shown.length + ", newest first" : "";
}

// A section that fails shows why in its own table: 403 means this key's role may not use it.
// A refused key (401) stops the whole refresh; other failures are also named in the status line.
const SECTIONS = {
  assets: [6, loadAssets], windows: [7, loadWindows], offers: [10, loadOffers],
  bookings: [8, loadBookings], changes: [8, loadChanges],
};

async function loadSection(name) {
  const [columns, loader] = SECTIONS[name];
  try {
    await loader();
    return null;
  } catch (err) {
    if (err.status === 401) throw err;
    const text = err.status === 403 ? "Not available for this key." : "Could not load: " + err.message;
    fill($(name), [], columns, text);
    const note = $(name + "-note");
    if (note) note.textContent = "";
    if (name === "offers") $("offers-more").hidden = true;
    return err.status === 403 ? null : name + ": " + err.message;
  }
}

async function loadSections(names) {
  const failures = (await Promise.all(names.map(loadSection))).filter(Boolean);
  if (failures.length) showStatus("error", "Could not load " + failures.join("; "));
  return failures.length === 0;
}

// After a hold, confirm or cancel: availability, bookings and the feed all moved.
async function reloadMarket() {
  try {
    await loadSections(["offers", "bookings", "changes"]);
  } catch (err) {
    showStatus("error", "The key was refused: " + err.message);
  }
}

let lastStatusFromLoad = false;

async function refresh() {
  if (!localStorage.getItem(KEY_ITEM)) {
    showStatus("info", "Paste an API key above to see your assets, idle windows, offers and bookings.");
    return;
  }
  try {
    await loadWho();
    const ok = await loadSections(Object.keys(SECTIONS));
    // Clear only a message a previous load put there, not the answer to a hold or cancel.
    if (ok && lastStatusFromLoad) showStatus("", "");
    lastStatusFromLoad = !ok;
  } catch (err) {
    lastStatusFromLoad = true;
    showStatus("error", err.status === 401 ? "The key was refused: " + err.message : "Could not load: " + err.message);
  }
}

keyForm(() => { lastStatusFromLoad = true; refresh(); }, () => {
  for (const id of Object.keys(SECTIONS)) $(id).replaceChildren();
  for (const id of ["assets-note", "offers-note", "bookings-note", "changes-note"]) $(id).textContent = "";
  $("offers-more").hidden = true;
  who.tenant = who.role = null;
  refresh();
});
$("search").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const failure = await loadSection("offers").catch((err) => err.message);
  if (failure) showStatus("error", "Search failed: " + failure.replace(/^offers: /, ""));
});
$("search").addEventListener("reset", () => setTimeout(() => $("search").requestSubmit(), 0));
$("offers-more").addEventListener("click", () => loadOffers(true).catch((err) => showStatus("error", "Could not load more offers: " + err.message)));

refresh();
setInterval(refresh, 60000);
