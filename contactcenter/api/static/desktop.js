// The agent desktop: presence, offers with a ring countdown, concurrent chats with the
// customer card, and the wrap-up form. Customer text is only ever set with textContent.
"use strict";

(() => {
  const { el, api, socket, fmtSeconds, fmtTime, ensureLogin, logout } = cc;
  const root = document.getElementById("root");
  const tabs = new Map(); // contact id -> tab
  let me = null;
  let active = null; // contact id of the shown tab
  let offer = null;
  let countdownTimer = null;
  let ui = {};

  function setBadge(state, reason) {
    const badge = document.getElementById("state");
    badge.textContent = reason ? `${state} (${reason})` : state;
    badge.className = `state-badge state-${state}`;
    if (ui.available) {
      ui.available.setAttribute("aria-pressed", state === "available" ? "true" : "false");
      ui.login.hidden = state !== "offline";
      ui.logout.disabled = state === "offline";
    }
  }

  function flash(msg) { ui.error.textContent = msg || ""; }

  async function act(fn) {
    flash("");
    try { return await fn(); } catch (e) { flash(e.message); return null; }
  }

  // -- layout --------------------------------------------------------------------------------

  function build() {
    const reason = el("select", { "data-testid": "away-reason" },
      ...me.away_reasons.map((r) => el("option", { value: r, text: r })));
    ui.available = el("button", { class: "primary", "data-testid": "go-available",
      onclick: () => act(async () => { const s = await api("PUT", "/api/agent/state", { state: "available" }); setBadge(s.state, s.reason); }) }, "Available");
    ui.away = el("button", { "data-testid": "go-away",
      onclick: () => act(async () => { const s = await api("PUT", "/api/agent/state", { state: "away", reason: reason.value }); setBadge(s.state, s.reason); }) }, "Away");
    ui.login = el("button", { class: "primary", "data-testid": "routing-login",
      onclick: () => act(async () => { const s = await api("POST", "/api/agent/login"); setBadge(s.state, s.reason); }) }, "Log into routing");
    ui.logout = el("button", { "data-testid": "routing-logout",
      onclick: () => act(async () => { const s = await api("POST", "/api/agent/logout"); setBadge(s.state, s.reason); }) }, "Log out of routing");
    ui.error = el("p", { class: "error", role: "alert", "data-testid": "desktop-error" });
    ui.offer = el("section", { class: "card offer", hidden: true, "data-testid": "offer" });
    ui.tabbar = el("nav", { class: "tabs", "data-testid": "tabs" });
    ui.panes = el("div", {});
    ui.empty = el("p", { class: "muted", text: "No contacts. Offers appear here while you are available." });
    root.replaceChildren(
      el("section", { class: "card" },
        el("div", { class: "row" }, ui.login, ui.available, ui.away, reason, ui.logout,
          el("button", { onclick: logout }, "Sign out")),
        ui.error),
      ui.offer,
      el("section", { class: "card" }, ui.tabbar, ui.empty, ui.panes));
    document.getElementById("who").textContent = `${me.agent_name || me.username} (${me.agent_id})`;
  }

  // -- offers --------------------------------------------------------------------------------

  function showOffer(o) {
    offer = { ...o, until: performance.now() + o.ring_seconds_left * 1000 };
    const count = el("span", { class: "countdown", "data-testid": "offer-countdown" });
    ui.offer.replaceChildren(
      el("h2", {}, "Incoming ", o.channel, " contact"),
      el("p", {}, el("strong", { "data-testid": "offer-customer", text: o.customer_name || "A customer" }),
        " · ", o.queue_name || o.queue),
      el("div", { class: "row" },
        count,
        el("button", { class: "primary", "data-testid": "offer-accept", onclick: () => acceptOffer(o.contact_id) }, "Accept"),
        el("button", { "data-testid": "offer-decline", onclick: () => act(() => api("POST", `/api/agent/contacts/${encodeURIComponent(o.contact_id)}/decline`)).then(hideOffer) }, "Decline")));
    ui.offer.hidden = false;
    clearInterval(countdownTimer);
    const tick = () => {
      const left = (offer.until - performance.now()) / 1000;
      count.textContent = left > 0 ? `${Math.ceil(left)} s` : "0 s";
    };
    tick();
    countdownTimer = setInterval(tick, 250);
  }

  function hideOffer() {
    offer = null;
    clearInterval(countdownTimer);
    ui.offer.hidden = true;
    ui.offer.replaceChildren();
  }

  async function acceptOffer(cid) {
    const ok = await act(() => api("POST", `/api/agent/contacts/${encodeURIComponent(cid)}/accept`));
    hideOffer();
    if (ok) openTab(cid, "active", true);
  }

  // -- contact tabs --------------------------------------------------------------------------

  function openTab(cid, state, select) {
    let tab = tabs.get(cid);
    if (!tab) {
      tab = makeTab(cid);
      tabs.set(cid, tab);
      loadScreenPop(tab);
    }
    setTabState(tab, state);
    if (select || !active) selectTab(cid);
    ui.empty.hidden = tabs.size > 0;
    return tab;
  }

  function makeTab(cid) {
    const tab = { cid, seen: new Set(), state: "active" };
    tab.button = el("button", { "data-testid": "tab", "data-contact": cid, onclick: () => selectTab(cid) }, "Chat");
    tab.transcript = el("ul", { class: "transcript", "data-testid": "agent-transcript" });
    tab.text = el("input", { maxlength: 2000, autocomplete: "off", placeholder: "Reply to the customer", "data-testid": "agent-input" });
    tab.compose = el("form", { class: "compose" }, tab.text,
      el("button", { class: "primary", type: "submit", "data-testid": "agent-send" }, "Send"));
    tab.compose.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const text = tab.text.value;
      if (!text.trim()) return;
      act(async () => {
        await api("POST", `/api/agent/contacts/${encodeURIComponent(cid)}/messages`, { text });
        tab.text.value = "";
      });
    });
    tab.hangup = el("button", { class: "danger", "data-testid": "agent-hangup",
      onclick: () => act(() => api("POST", `/api/agent/contacts/${encodeURIComponent(cid)}/hangup`)) }, "End chat");
    const disp = el("select", { "data-testid": "wrapup-disposition" },
      ...me.dispositions.map((d) => el("option", { value: d, text: d })));
    const notes = el("textarea", { rows: 3, maxlength: 2000, "data-testid": "wrapup-notes" });
    tab.wrap = el("form", { class: "card stack", hidden: true, "data-testid": "wrapup-form" },
      el("h3", { text: "Wrap-up" }),
      el("label", {}, "Disposition", disp),
      el("label", {}, "Notes", notes),
      el("button", { class: "primary", type: "submit", "data-testid": "wrapup-submit" }, "Done"));
    tab.wrap.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const body = { disposition: disp.value };
      if (notes.value.trim()) body.notes = notes.value.trim();
      act(async () => {
        await api("POST", `/api/agent/contacts/${encodeURIComponent(cid)}/wrapup`, body);
        closeTab(cid);
      });
    });
    tab.card = el("aside", { class: "customer-card", "data-testid": "customer-card" }, el("p", { class: "muted", text: "Loading customer…" }));
    tab.pane = el("div", { class: "grid2", hidden: true, "data-contact": cid },
      el("div", {}, tab.transcript, tab.compose, el("div", { class: "row" }, tab.hangup), tab.wrap),
      tab.card);
    ui.tabbar.append(tab.button);
    ui.panes.append(tab.pane);
    return tab;
  }

  function setTabState(tab, state) {
    tab.state = state;
    const wrap = state === "wrap_up";
    tab.wrap.hidden = !wrap;
    tab.compose.hidden = wrap;
    tab.hangup.hidden = wrap;
    tab.button.classList.toggle("wrap", wrap);
  }

  function selectTab(cid) {
    active = cid;
    for (const [id, tab] of tabs) {
      tab.pane.hidden = id !== cid;
      tab.button.classList.toggle("active", id === cid);
    }
  }

  function closeTab(cid) {
    const tab = tabs.get(cid);
    if (!tab) return;
    tab.button.remove();
    tab.pane.remove();
    tabs.delete(cid);
    if (active === cid) {
      active = null;
      const next = tabs.keys().next();
      if (!next.done) selectTab(next.value);
    }
    ui.empty.hidden = tabs.size > 0;
  }

  function addLine(tab, sender, text, at) {
    const key = `${sender}|${at}|${text}`;
    if (tab.seen.has(key)) return;
    tab.seen.add(key);
    const li = el("li", { class: sender, title: at ? fmtTime(at) : null });
    li.textContent = text;
    tab.transcript.append(li);
    tab.transcript.scrollTop = tab.transcript.scrollHeight;
  }

  async function loadScreenPop(tab) {
    let pop;
    try {
      pop = await api("GET", `/api/agent/contacts/${encodeURIComponent(tab.cid)}`);
    } catch (e) {
      tab.card.replaceChildren(el("p", { class: "error", text: e.message }));
      return;
    }
    const c = pop.customer;
    tab.button.textContent = c.name || tab.cid;
    const rows = [["Name", c.name || "unknown"], ["Tier", c.tier], ["Customer id", c.customer_id || "not identified"],
      ["Topic", pop.topic || "–"], ["Queue", pop.queue], ["Waited", fmtSeconds(pop.wait_seconds)]];
    if (c.email) rows.push(["E-mail", c.email]);
    if (c.phone) rows.push(["Phone", c.phone]);
    const dl = el("dl", {});
    for (const [k, v] of rows) dl.append(el("dt", { text: k }), el("dd", { text: v }));
    const history = el("ul", { class: "history", "data-testid": "customer-history" },
      ...c.last_contacts.map((h) => el("li", {},
        `${new Date(h.arrived * 1000).toLocaleString()} · ${h.channel} · ${h.queue} · ${h.outcome || "?"}${h.disposition ? " · " + h.disposition : ""}`)));
    tab.card.replaceChildren(el("h3", { "data-testid": "customer-name", text: c.name || "Customer" }), dl,
      el("h4", { text: "Last contacts" }), c.last_contacts.length ? history : el("p", { class: "muted", text: "none" }));
    for (const ln of pop.transcript) addLine(tab, ln.sender, ln.text, ln.at);
  }

  // -- live frames ---------------------------------------------------------------------------

  function onSnapshot(s) {
    setBadge(s.state.state, s.state.reason);
    const held = new Set();
    for (const c of s.contacts) {
      if (c.state === "offered") continue;
      held.add(c.contact_id);
      openTab(c.contact_id, c.state, false);
    }
    for (const cid of [...tabs.keys()]) if (!held.has(cid)) closeTab(cid);
    if (s.offer) showOffer(s.offer); else hideOffer();
  }

  function onFrame(f) {
    switch (f.type) {
      case "snapshot": onSnapshot(f); break;
      case "state": setBadge(f.state, f.reason); break;
      case "offer": showOffer(f); break;
      case "offer_withdrawn":
        if (offer && offer.contact_id === f.contact_id) {
          hideOffer();
          if (f.reason === "timeout") flash("You missed an offer.");
          if (f.reason === "contact_left") flash("The customer left before you answered.");
        }
        break;
      case "answered": openTab(f.contact_id, "active", true); break;
      case "completed": {
        const tab = tabs.get(f.contact_id);
        if (tab) setTabState(tab, "wrap_up");
        break;
      }
      case "wrapup_ended": closeTab(f.contact_id); break;
      case "message": {
        const tab = tabs.get(f.contact_id);
        if (tab) addLine(tab, f.sender, f.text, f.at);
        break;
      }
      case "chat_closed": {
        const tab = tabs.get(f.contact_id);
        if (tab && f.by === "customer") addLine(tab, "system", "The customer left the chat.", null);
        break;
      }
    }
  }

  async function main() {
    me = await ensureLogin(root, "Agent log-in");
    if (!me.agent_id) {
      root.replaceChildren(el("p", { class: "error", text: "This user is not an agent." }),
        el("button", { onclick: logout }, "Sign out"));
      return;
    }
    build();
    setBadge("offline", null);
    socket("/api/agent/ws", onFrame, (st) => { if (st === "closed") flash("Connection lost, reconnecting…"); else flash(""); });
  }

  main().catch((e) => { root.replaceChildren(el("p", { class: "error", text: e.message })); });
})();
