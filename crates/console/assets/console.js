// wsflow console: live updates (Server-Sent Events) and the few actions.
// Every HTML fragment it inserts was rendered (and escaped) by the server.
"use strict";

function byData(selector, key, value) {
  for (const el of document.querySelectorAll(selector)) {
    if (el.dataset[key] === value) return el;
  }
  return null;
}

function notice(text, isError) {
  const p = document.getElementById("action-result");
  if (!p) return;
  p.hidden = false;
  p.textContent = text;
  p.classList.toggle("error-message", !!isError);
}

async function act(url, body) {
  const resp = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body || {}),
  });
  if (!resp.ok) {
    const text = await resp.text();
    const doc = new DOMParser().parseFromString(text, "text/html");
    const msg = doc.querySelector(".error-message");
    throw new Error(resp.status + " " + (msg ? msg.textContent : resp.statusText));
  }
  return resp;
}

// ---- execution page -------------------------------------------------------

let selected = null;

function select(name) {
  selected = name;
  for (const g of document.querySelectorAll("g.state")) {
    g.classList.toggle("selected", g.dataset.state === name);
  }
  let found = false;
  for (const s of document.querySelectorAll(".state-detail")) {
    s.hidden = s.dataset.detail !== name;
    found = found || !s.hidden;
  }
  const hint = document.getElementById("state-hint");
  if (hint) hint.textContent = found ? "" : name + ": not reached.";
  if (hint) hint.hidden = found;
}

function setStateClass(g, cls) {
  for (const c of Array.from(g.classList)) {
    if (c.startsWith("st-")) g.classList.remove(c);
  }
  g.classList.add(cls);
}

function applyUpdate(u) {
  const summary = document.getElementById("summary");
  if (summary) summary.innerHTML = u.summary;
  const panel = document.getElementById("state-panel");
  for (const [name, st] of Object.entries(u.states)) {
    for (const g of document.querySelectorAll("g.state")) {
      if (g.dataset.state === name) setStateClass(g, st.class);
    }
    const old = byData(".state-detail", "detail", name);
    const tmp = document.createElement("div");
    tmp.innerHTML = st.detail;
    const fresh = tmp.firstElementChild;
    if (!fresh) continue;
    fresh.hidden = selected !== name;
    if (old) old.replaceWith(fresh); else if (panel) panel.appendChild(fresh);
  }
  const body = document.querySelector("#history tbody");
  if (body && u.rows) body.insertAdjacentHTML("beforeend", u.rows);
  const root = document.getElementById("execution");
  if (root) {
    root.dataset.last = String(u.last);
    root.dataset.status = u.status;
  }
  if (u.status !== "RUNNING") {
    const stop = document.getElementById("stop");
    if (stop) stop.remove();
  }
}

function watchExecution(root) {
  if (root.dataset.running !== "true") return;
  const es = new EventSource(root.dataset.live + "?after=" + encodeURIComponent(root.dataset.last || "0"));
  es.addEventListener("update", (ev) => {
    const u = JSON.parse(ev.data);
    applyUpdate(u);
    if (u.status !== "RUNNING") es.close();
  });
}

// ---- connections ------------------------------------------------------------

function watchConnections(table) {
  const es = new EventSource(table.dataset.live);
  const body = table.querySelector("tbody");
  es.addEventListener("change", (ev) => {
    const m = JSON.parse(ev.data);
    const count = document.getElementById("connection-count");
    if (count && typeof m.count === "number") count.textContent = String(m.count);
    const row = byData("#connections tr", "connection", m.id);
    if (m.kind === "opened" && !row) body.insertAdjacentHTML("beforeend", m.row);
    if (m.kind === "closed" && row) row.remove();
  });
}

// Set once the connection shown has closed: the close can arrive on the
// live stream before the Disconnect request's own reply, which must not then
// overwrite the "Closed" notice.
let connectionClosed = false;

function watchFrames(table) {
  const es = new EventSource(table.dataset.live);
  const body = table.querySelector("tbody");
  es.addEventListener("change", (ev) => {
    const m = JSON.parse(ev.data);
    if (m.kind === "frame") body.insertAdjacentHTML("beforeend", m.row);
    if (m.kind === "closed") {
      connectionClosed = true;
      const actions = document.getElementById("actions");
      if (actions) for (const b of actions.querySelectorAll("button, textarea")) b.disabled = true;
      notice("Closed (code " + m.code + (m.reason ? ", " + m.reason : "") + ").");
      es.close();
    }
  });
}

// ---- wiring -----------------------------------------------------------------

document.addEventListener("DOMContentLoaded", () => {
  for (const g of document.querySelectorAll("#execution g.state")) {
    g.addEventListener("click", (ev) => { ev.stopPropagation(); select(g.dataset.state); });
    g.addEventListener("keydown", (ev) => { if (ev.key === "Enter") select(g.dataset.state); });
  }
  const exec = document.getElementById("execution");
  if (exec) watchExecution(exec);
  const conns = document.getElementById("connections");
  if (conns) watchConnections(conns);
  const frames = document.getElementById("frames");
  if (frames && !document.getElementById("closed")) watchFrames(frames);

  const stop = document.getElementById("stop");
  if (stop) stop.addEventListener("click", async () => {
    stop.disabled = true;
    try { await act(stop.dataset.action, { error: "Console", cause: "Stopped from the wsflow console" }); notice("Stop requested."); }
    catch (e) { notice(e.message, true); stop.disabled = false; }
  });
  const send = document.getElementById("post-send");
  if (send) send.addEventListener("click", async () => {
    const data = document.getElementById("post-data").value;
    try { await act(send.dataset.action, { data }); notice("Posted " + data.length + " character(s)."); }
    catch (e) { notice(e.message, true); }
  });
  const disc = document.getElementById("disconnect");
  if (disc) disc.addEventListener("click", async () => {
    try { await act(disc.dataset.action, {}); if (!connectionClosed) notice("Disconnect requested."); }
    catch (e) { notice(e.message, true); }
  });
});
