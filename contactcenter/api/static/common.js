// Shared helpers of the pages. User data only ever reaches the page through textContent.
"use strict";

const cc = (() => {
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children) {
      if (c === null || c === undefined) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  class ApiError extends Error {
    constructor(status, body) {
      const err = (body && body.error) || {};
      super(err.message || `HTTP ${status}`);
      this.status = status;
      this.code = err.code || "http_error";
    }
  }

  async function api(method, path, body) {
    const opts = { method, credentials: "same-origin", headers: {} };
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    const resp = await fetch(path, opts);
    let data = null;
    try { data = await resp.json(); } catch (e) { data = null; }
    if (!resp.ok) throw new ApiError(resp.status, data);
    return data;
  }

  function wsUrl(path) {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    return `${proto}//${location.host}${path}`;
  }

  // A socket that reconnects with back-off until stop() is called.
  function socket(path, onFrame, onState) {
    let ws = null;
    let stopped = false;
    let delay = 500;
    let failures = 0;
    function open() {
      ws = new WebSocket(wsUrl(typeof path === "function" ? path() : path));
      ws.addEventListener("open", () => { delay = 500; failures = 0; onState && onState("open"); });
      ws.addEventListener("message", (ev) => {
        let frame;
        try { frame = JSON.parse(ev.data); } catch (e) { return; }
        onFrame(frame);
      });
      ws.addEventListener("close", (ev) => {
        if (ev.code === 4401) { location.reload(); return; } // the session ended: log in again
        onState && onState("closed");
        failures += 1;
        if (failures > 20) stopped = true;
        if (!stopped) { setTimeout(open, delay); delay = Math.min(delay * 2, 10000); }
      });
    }
    open();
    return {
      send(obj) { if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(obj)); },
      stop() { stopped = true; if (ws) ws.close(); },
    };
  }

  function fmtSeconds(s) {
    if (s === null || s === undefined) return "–";
    s = Math.max(0, Math.round(s));
    const m = Math.floor(s / 60);
    return m ? `${m}m ${String(s % 60).padStart(2, "0")}s` : `${s}s`;
  }

  function fmtPercent(x) {
    return x === null || x === undefined ? "–" : `${Math.round(x * 100)}%`;
  }

  function fmtTime(wall) {
    const d = new Date(wall * 1000);
    return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  // Log in with the form inside `root`; resolves with /api/me once logged in.
  async function ensureLogin(root, title) {
    try { return await api("GET", "/api/me"); } catch (e) { if (e.status !== 401) throw e; }
    return new Promise((resolve) => {
      const user = el("input", { name: "username", autocomplete: "username", required: true, "data-testid": "login-user" });
      const pass = el("input", { name: "password", type: "password", autocomplete: "current-password", required: true, "data-testid": "login-password" });
      const msg = el("p", { class: "error", role: "alert" });
      const form = el("form", { class: "card login", "data-testid": "login-form" },
        el("h2", { text: title }),
        el("label", {}, "User name", user),
        el("label", {}, "Password", pass),
        el("button", { type: "submit", "data-testid": "login-submit" }, "Log in"),
        msg);
      form.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        msg.textContent = "";
        try {
          await api("POST", "/api/login", { username: user.value, password: pass.value });
          form.remove();
          resolve(await api("GET", "/api/me"));
        } catch (e) {
          msg.textContent = e.message;
        }
      });
      root.replaceChildren(form);
      user.focus();
    });
  }

  async function logout() {
    try { await api("POST", "/api/logout"); } catch (e) { /* already out */ }
    location.reload();
  }

  return { el, api, ApiError, wsUrl, socket, fmtSeconds, fmtPercent, fmtTime, ensureLogin, logout };
})();
