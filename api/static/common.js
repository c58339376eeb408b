"use strict";
// What both pages share: the key they keep, how they call the API and how they build elements.
// Loaded before the page's own script. The calls with a path literal are in the pages' scripts:
// tests/api/routes/test_web.py reads them there and checks each against the app's routes.
const KEY_ITEM = "idleshare.apiKey";
const MAX_PAGES = 20;       // at 1000 items a page, enough for a dashboard
const $ = (id) => document.getElementById(id);

class HttpError extends Error {
  // detail: the API's own answer (a list of {loc, msg} for a 422), for placing field errors.
  constructor(status, message, detail) { super(message); this.status = status; this.detail = detail; }
}

async function request(method, path, body) {
  const init = { method, headers: { Authorization: "Bearer " + localStorage.getItem(KEY_ITEM) } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  if (!res.ok) {
    let detail = null, text = res.statusText;
    try {
      detail = (await res.json()).detail;
      text = typeof detail === "string" ? detail
        : detail.map((d) => (d.loc ? d.loc[d.loc.length - 1] + ": " : "") + d.msg).join("; ");
    } catch (_) { /* keep statusText */ }
    throw new HttpError(res.status, text, detail);
  }
  return res;
}
async function api(method, path, body) {
  const res = await request(method, path, body);
  return res.status === 204 ? null : res.json();
}

// Every item of a paged list, following next_cursor at most MAX_PAGES times.
async function allItems(path) {
  const items = [];
  let cursor = null;
  for (let page = 0; page < MAX_PAGES; page++) {
    const sep = path.includes("?") ? "&" : "?";
    const url = path + sep + "limit=1000" + (cursor ? "&cursor=" + encodeURIComponent(cursor) : "");
    const body = await api("GET", url);
    items.push(...body.items);
    cursor = body.next_cursor;
    if (!cursor) break;
  }
  return items;
}

// Build elements with textContent only: names come from agents and must never become HTML.
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}
const td = (text, cls) => el("td", cls ? { class: cls } : {}, text);

// The key form of the page's header: a key pasted is kept in localStorage (both pages share
// it); onChange runs after the key is set, onForget after it is removed.
function keyForm(onChange, onForget) {
  const parts = [
    el("label", { for: "key", class: "muted" }, "API key"),
    el("input", { id: "key", type: "password", placeholder: "idl_…", spellcheck: "false" }),
    el("button", { type: "submit" }, "Show"),
    el("button", { type: "button", class: "plain", id: "forget" }, "Forget key"),
  ];
  $("keyform").replaceChildren(...parts.flatMap((p) => [p, " "]));  // spaced as in markup
  $("keyform").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const key = $("key").value.trim();
    if (key) localStorage.setItem(KEY_ITEM, key);
    $("key").value = "";
    onChange();
  });
  $("forget").addEventListener("click", () => {
    localStorage.removeItem(KEY_ITEM);
    $("who").textContent = "";
    onForget();
  });
}
