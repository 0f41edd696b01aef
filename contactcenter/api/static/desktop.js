// The agent desktop: presence with the time in the current state, offers with a ring
// countdown (a sound, the tab's title, the focus on Accept, Alt+A / Alt+D), concurrent contacts
// with the customer card (history, private notes), transfers (blind to a queue or an agent, warm
// with a consult), colleagues' consults, call backs (booked here; dialled by hand when the site
// has no voice edge) and the wrap-up form (its countdown, a disposition of the contact's queue
// required). Customer text is only ever set with textContent.
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
  const enc = encodeURIComponent;
  const baseTitle = document.title;
  const MUTED = "cc.desktop.muted";
  let audio = null; // made on the agent's first click or key: browsers start sound only then
  let stateSince = null; // performance.now() when the state shown began (the server's count)
  let stateLabel = "";

  const STATES = { available: "Available", away: "Away", offline: "Offline", ringing: "Ringing",
    busy: "Busy", wrap_up: "Wrap-up" };
  function reasonText(r) { return (me && me.away_reason_labels && me.away_reason_labels[r]) || r; }
  function clock(seconds) {
    const s = Math.max(0, Math.floor(seconds));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    const mmss = `${String(m).padStart(2, "0")}:${String(sec).padStart(2, "0")}`;
    return h ? `${h}:${mmss}` : mmss;
  }
  function tickState() {
    const node = document.getElementById("state-timer");
    if (stateSince === null) { node.textContent = ""; return; }
    node.textContent = `${stateLabel} ${clock((performance.now() - stateSince) / 1000)}`;
  }

  function setBadge(state, reason, since) {
    const badge = document.getElementById("state");
    badge.textContent = reason ? `${state} (${reason})` : state;
    badge.className = `state-badge state-${state}`;
    if (since !== undefined && since !== null) {
      stateSince = performance.now() - since * 1000;
      stateLabel = (STATES[state] || state) + (reason ? ` (${reasonText(reason)})` : "");
      tickState();
    }
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
    const reason = el("select", { id: "away-reason", "data-testid": "away-reason" },
      ...me.away_reasons.map((r) => el("option", { value: r, text: reasonText(r) })));
    ui.available = el("button", { class: "primary", "data-testid": "go-available",
      onclick: () => act(async () => { const s = await api("PUT", "/api/agent/state", { state: "available" }); setBadge(s.state, s.reason, s.since_seconds); }) }, "Available");
    ui.away = el("button", { "data-testid": "go-away",
      onclick: () => act(async () => { const s = await api("PUT", "/api/agent/state", { state: "away", reason: reason.value }); setBadge(s.state, s.reason, s.since_seconds); }) }, "Away");
    ui.login = el("button", { class: "primary", "data-testid": "routing-login",
      onclick: () => act(async () => { const s = await api("POST", "/api/agent/login"); setBadge(s.state, s.reason, s.since_seconds); }) }, "Log into routing");
    ui.logout = el("button", { "data-testid": "routing-logout",
      onclick: () => act(async () => { const s = await api("POST", "/api/agent/logout"); setBadge(s.state, s.reason, s.since_seconds); }) }, "Log out of routing");
    ui.error = el("p", { class: "error", role: "alert", "data-testid": "desktop-error" });
    ui.offer = el("section", { class: "card offer", hidden: true, "data-testid": "offer" });
    ui.consult = el("section", { class: "card offer", hidden: true, "data-testid": "consult-offer" });
    ui.tabbar = el("nav", { class: "tabs", "data-testid": "tabs" });
    ui.panes = el("div", {});
    ui.empty = el("p", { class: "muted", text: "No contacts. Offers appear here while you are available." });
    ui.callbacks = buildCallbacks();
    ui.sound = el("button", { type: "button", "data-testid": "sound-toggle", onclick: () => {
      localStorage.setItem(MUTED, muted() ? "0" : "1");
      showSound();
    } });
    showSound();
    root.replaceChildren(
      el("section", { class: "card" },
        el("div", { class: "row" }, ui.login, ui.available,
          el("span", { class: "row" }, ui.away,
            el("label", { for: "away-reason", class: "inline" }, "Away reason"), reason),
          ui.logout, ui.sound, el("button", { onclick: logout }, "Sign out")),
        me.extension ? el("p", { class: "muted", text: `Calls ring your phone, extension ${me.extension}.` }) : null,
        ui.error),
      ui.offer, ui.consult,
      el("section", { class: "card" }, ui.tabbar, ui.empty, ui.panes),
      ui.callbacks.section);
    document.getElementById("who").textContent = `${me.agent_name || me.username} (${me.agent_id})`;
  }

  // -- offers --------------------------------------------------------------------------------

  function muted() { return localStorage.getItem(MUTED) === "1"; }

  function showSound() {
    const off = muted();
    ui.sound.textContent = off ? "Sound off" : "Sound on";
    ui.sound.setAttribute("aria-pressed", off ? "false" : "true");
    ui.sound.title = off ? "Offers arrive silently: turn the offer sound on" : "Turn the offer sound off";
  }

  function wakeAudio() {
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (!audio && Ctx) audio = new Ctx();
    if (audio && audio.state === "suspended") audio.resume();
  }

  // Two short tones from an oscillator (no audio file); the offer says what it did.
  function ring() {
    let done = "muted";
    if (!muted()) {
      wakeAudio();
      done = "blocked";
      if (audio && audio.state === "running") {
        const t = audio.currentTime;
        for (const [at, hz] of [[0, 880], [0.2, 660]]) {
          const osc = audio.createOscillator();
          const gain = audio.createGain();
          osc.frequency.value = hz;
          osc.connect(gain);
          gain.connect(audio.destination);
          gain.gain.setValueAtTime(0.0001, t + at);
          gain.gain.exponentialRampToValueAtTime(0.2, t + at + 0.02);
          gain.gain.exponentialRampToValueAtTime(0.0001, t + at + 0.16);
          osc.start(t + at);
          osc.stop(t + at + 0.18);
        }
        done = "sound";
      }
    }
    ui.offer.dataset.alert = done;
  }

  // A call is answered on the phone; a call back the agent dials by hand, on the desktop.
  function onPhone(o) { return o.channel === "voice" && !(o.callback && o.callback.dialled_by === "agent"); }

  function countdown(node, until) {
    clearInterval(countdownTimer);
    const tick = () => {
      const left = (until - performance.now()) / 1000;
      node.textContent = left > 0 ? `${Math.ceil(left)} s` : "0 s";
    };
    tick();
    countdownTimer = setInterval(tick, 250);
  }

  function declineOffer(cid) {
    return act(() => api("POST", `/api/agent/contacts/${enc(cid)}/decline`)).then(hideOffer);
  }

  function showOffer(o) {
    const fresh = !offer || offer.contact_id !== o.contact_id;
    offer = { ...o, until: performance.now() + o.ring_seconds_left * 1000 };
    const count = el("span", { class: "countdown", "data-testid": "offer-countdown" });
    const what = o.callback ? `Call back to ${o.callback.number}` : `Incoming ${o.channel} contact`;
    const answer = onPhone(o)
      ? el("strong", { "data-testid": "offer-on-phone", text: `Answer on your phone${me.extension ? " (" + me.extension + ")" : ""}` })
      : el("button", { class: "primary", "data-testid": "offer-accept", title: "Accept (Alt+A)",
          "aria-keyshortcuts": "Alt+A", onclick: () => acceptOffer(o.contact_id) }, "Accept ", el("kbd", { text: "Alt+A" }));
    const decline = el("button", { "data-testid": "offer-decline", title: "Decline (Alt+D)",
      "aria-keyshortcuts": "Alt+D", onclick: () => declineOffer(o.contact_id) }, "Decline ", el("kbd", { text: "Alt+D" }));
    ui.offer.replaceChildren(
      el("h2", { text: what }),
      el("p", {}, el("strong", { "data-testid": "offer-customer", text: o.customer_name || "A customer" }),
        " · ", o.queue_name || o.queue),
      el("div", { class: "row" }, count, answer, decline));
    ui.offer.hidden = false;
    countdown(count, offer.until);
    document.title = `● Offer: ${o.queue_name || o.queue}`;
    if (fresh) ring();
    (onPhone(o) ? decline : answer).focus();
  }

  function hideOffer() {
    offer = null;
    clearInterval(countdownTimer);
    ui.offer.hidden = true;
    ui.offer.replaceChildren();
    document.title = baseTitle;
  }

  // Alt+A accepts the ringing offer, Alt+D declines it (wherever the focus is).
  function onShortcut(ev) {
    if (!ev.altKey || ev.ctrlKey || ev.metaKey || !offer) return;
    if (ev.code === "KeyA" && !onPhone(offer)) { ev.preventDefault(); acceptOffer(offer.contact_id); }
    if (ev.code === "KeyD") { ev.preventDefault(); declineOffer(offer.contact_id); }
  }

  async function acceptOffer(cid) {
    const ok = await act(() => api("POST", `/api/agent/contacts/${enc(cid)}/accept`));
    hideOffer();
    if (ok) {
      const tab = openTab(cid, "active", true);
      (tab.compose.hidden ? tab.hangup : tab.text).focus();
    }
  }

  // A colleague asks to consult (a warm transfer to this agent).
  function showConsult(f) {
    const count = el("span", { class: "countdown" });
    const answer = f.channel === "voice"
      ? el("strong", { text: "Answer on your phone" })
      : el("button", { class: "primary", "data-testid": "consult-accept",
          onclick: () => act(async () => { await api("POST", `/api/agent/contacts/${enc(f.contact_id)}/consult/accept`); openTab(f.contact_id, "consult", true); }) }, "Accept");
    ui.consult.replaceChildren(
      el("h2", { text: `${f.from_name || f.from_agent} asks you to take over a ${f.channel}` }),
      el("p", {}, el("strong", { text: f.customer_name || "A customer" }), " · ", f.queue_name || f.queue),
      el("div", { class: "row" }, count, answer,
        el("button", { "data-testid": "consult-decline",
          onclick: () => act(() => api("POST", `/api/agent/contacts/${enc(f.contact_id)}/consult/decline`)) }, "Decline")));
    ui.consult.hidden = false;
    ui.consult.dataset.contact = f.contact_id;
    countdown(count, performance.now() + f.ring_seconds_left * 1000);
    openTab(f.contact_id, "consult", false);  // the transcript and the note, to read first
  }

  function hideConsult(cid) {
    if (ui.consult.dataset.contact !== cid) return;
    ui.consult.hidden = true;
    ui.consult.replaceChildren();
    delete ui.consult.dataset.contact;
  }

  // -- contact tabs --------------------------------------------------------------------------

  function openTab(cid, state, select) {
    let tab = tabs.get(cid);
    if (!tab) {
      tab = makeTab(cid);
      tabs.set(cid, tab);
      loadScreenPop(tab);
    } else if (state === "active" && tab.state === "consult") {
      loadScreenPop(tab);  // the colleague took the contact over
    }
    setTabState(tab, state);
    if (select || !active) selectTab(cid);
    ui.empty.hidden = tabs.size > 0;
    return tab;
  }

  function makeTab(cid) {
    const tab = { cid, seen: new Set(), state: "active", channel: "chat", callback: null };
    tab.button = el("button", { "data-testid": "tab", "data-contact": cid, onclick: () => selectTab(cid) }, "Contact");
    tab.transcript = el("ul", { class: "transcript", "data-testid": "agent-transcript" });
    tab.text = el("input", { maxlength: 2000, autocomplete: "off", placeholder: "Reply to the customer", "data-testid": "agent-input" });
    tab.compose = el("form", { class: "compose" }, tab.text,
      el("button", { class: "primary", type: "submit", "data-testid": "agent-send" }, "Send"));
    tab.compose.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const text = tab.text.value;
      if (!text.trim()) return;
      act(async () => {
        await api("POST", `/api/agent/contacts/${enc(cid)}/messages`, { text });
        tab.text.value = "";
      });
    });
    tab.answers = makeAnswers(tab);
    tab.hangup = el("button", { class: "danger", "data-testid": "agent-hangup",
      onclick: () => act(() => api("POST", `/api/agent/contacts/${enc(cid)}/hangup`)) }, "End chat");
    tab.transfer = makeTransfer(tab);
    tab.result = el("div", { class: "row", hidden: true, "data-testid": "callback-result" },
      el("span", { text: "The call to the customer:" }),
      ...[["answered", "Answered"], ["no_answer", "No answer"], ["busy", "Busy"], ["failed", "Failed"]].map(([o, label]) =>
        el("button", { "data-testid": `callback-${o}`, onclick: () => act(async () => {
          const r = await api("POST", `/api/agent/contacts/${enc(cid)}/callback-result`, { outcome: o });
          tab.result.hidden = true;
          addLine(tab, "system", r.status === "connected" ? "Connected to the customer." : "Not reached: it will be tried again or closed.", null);
        }) }, label)));
    const disp = el("select", { required: true, "data-testid": "wrapup-disposition" });
    const notes = el("textarea", { rows: 3, maxlength: 2000, "data-testid": "wrapup-notes" });
    const done = el("button", { class: "primary", type: "submit", disabled: true, "data-testid": "wrapup-submit" }, "Done");
    tab.wrapLeft = el("p", { class: "countdown-line", role: "timer", "data-testid": "wrapup-countdown" });
    tab.wrap = el("form", { class: "card stack", hidden: true, "data-testid": "wrapup-form" },
      el("h3", { text: "Wrap-up" }), tab.wrapLeft,
      el("label", {}, "Disposition (required)", disp),
      el("label", {}, "Notes", notes), done);
    disp.addEventListener("change", () => { done.disabled = !disp.value; });
    // the contact's queue's list (the queue whose wrap-up it is), with nothing chosen yet
    tab.setDispositions = (list) => {
      if (tab.dispositions && tab.dispositions.join() === list.join()) return;
      tab.dispositions = list;
      disp.replaceChildren(el("option", { value: "", text: "Choose a disposition…" }),
        ...list.map((d) => el("option", { value: d, text: d })));
      done.disabled = true;
    };
    tab.disp = disp;
    tab.wrap.addEventListener("submit", (ev) => {
      ev.preventDefault();
      if (!disp.value) { flash("Choose a disposition first."); disp.focus(); return; }
      const body = { disposition: disp.value };
      if (notes.value.trim()) body.notes = notes.value.trim();
      act(async () => {
        await api("POST", `/api/agent/contacts/${enc(cid)}/wrapup`, body);
        closeTab(cid);
      });
    });
    tab.card = el("aside", { class: "customer-card", "data-testid": "customer-card" }, el("p", { class: "muted", text: "Loading customer…" }));
    tab.cases = makeCaseForm(tab);
    tab.notes = makeNotes(tab);
    tab.pane = el("div", { class: "grid2", hidden: true, "data-contact": cid },
      el("div", { class: "work" }, tab.transcript, tab.compose, tab.result,
        el("div", { class: "row" }, tab.hangup, tab.transfer.open, tab.cases.open), tab.transfer.panel,
        tab.cases.form, tab.cases.status, tab.wrap, tab.notes.section),
      tab.card);
    ui.tabbar.append(tab.button);
    ui.panes.append(tab.pane);
    return tab;
  }

  // Standard answers in the reply box: "/shortcut" then Tab or Enter puts its text in place of
  // the shortcut; "Answers" opens a searchable list of the contact's (its queue's, in its
  // language). The server renders them for this contact (the customer's name only when
  // verified), so nothing here fills a template.
  function makeAnswers(tab) {
    const a = { list: [] };
    const search = el("input", { type: "search", placeholder: "Search answers", "aria-label": "Search standard answers", "data-testid": "answers-search" });
    const items = el("ul", { class: "answers-list", "data-testid": "answers-list" });
    a.panel = el("div", { class: "answers-panel card", hidden: true, "data-testid": "answers-panel" }, search, items);
    a.open = el("button", { type: "button", "aria-expanded": "false", "data-testid": "answers-open", onclick: () => toggle() }, "Answers");
    function toggle(show = a.panel.hidden) {
      a.panel.hidden = !show;
      a.open.setAttribute("aria-expanded", String(show));
      if (show) { search.value = ""; fill(); search.focus(); }
    }
    function put(answer, shortcut) {  // in place of the typed "/shortcut", else at the end
      const v = tab.text.value;
      tab.text.value = shortcut ? v.slice(0, v.length - shortcut.length) + answer.text
        : (v && !v.endsWith(" ") ? v + " " : v) + answer.text;
      toggle(false);
      tab.text.focus();
    }
    function matching(q) {
      q = q.trim().toLowerCase().replace(/^\//, "");
      return a.list.filter((x) => !q || x.shortcut.startsWith(q) || x.title.toLowerCase().includes(q) || x.text.toLowerCase().includes(q));
    }
    function fill() {
      const found = matching(search.value);
      items.replaceChildren(...found.map((x) => el("li", {}, el("button", { type: "button", "data-testid": "answer", "data-shortcut": x.shortcut, title: x.text, onclick: () => put(x) },
        el("strong", { text: `/${x.shortcut}` }), ` ${x.title}`))));
      if (!found.length) items.append(el("li", { class: "muted", text: a.list.length ? "No answer matches." : "No standard answers for this contact." }));
    }
    search.addEventListener("input", fill);
    search.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape") { toggle(false); tab.text.focus(); }
      if (ev.key === "Enter") { ev.preventDefault(); const [first] = matching(search.value); if (first) put(first); }
    });
    tab.text.addEventListener("keydown", (ev) => {
      if (ev.key !== "Tab" && ev.key !== "Enter") return;
      const typed = /(?:^|\s)(\/[a-z0-9_-]*)$/.exec(tab.text.value);
      if (!typed || (ev.key === "Tab" && typed[1] === "/")) return;
      const word = typed[1].slice(1);
      const exact = a.list.find((x) => x.shortcut === word);
      const starting = a.list.filter((x) => x.shortcut.startsWith(word));
      const found = exact || (starting.length === 1 ? starting[0] : null);
      ev.preventDefault();  // a shortcut is never sent as typed
      if (found) put(found, typed[1]);
      else { toggle(true); search.value = word; fill(); }
    });
    a.load = async () => {
      try {
        a.list = (await api("GET", `/api/agent/contacts/${enc(tab.cid)}/answers`)).answers;
      } catch (e) {
        a.list = [];
      }
      a.open.dataset.count = String(a.list.length);
    };
    tab.compose.append(a.open, a.panel);
    return a;
  }

  // Private notes on the contact: for agents only (never sent to the customer), kept with the
  // contact and shown on the customer's later contacts; written while talking or in wrap-up.
  function makeNotes(tab) {
    const n = {};
    n.list = el("ul", { class: "history", "data-testid": "private-notes" });
    const text = el("textarea", { id: `note-${tab.cid}`, rows: 2, maxlength: 2000, "data-testid": "private-note-text" });
    n.section = el("form", { class: "card stack notes" },
      el("h3", { text: "Private notes" }), n.list,
      el("label", { for: `note-${tab.cid}` }, "Note for agents only (the customer never sees it)"), text,
      el("button", { type: "submit", "data-testid": "private-note-add" }, "Add note"));
    n.show = (notes) => n.list.replaceChildren(...notes.map(noteLine));
    n.section.addEventListener("submit", (ev) => {
      ev.preventDefault();
      if (!text.value.trim()) { text.focus(); return; }
      act(async () => {
        const note = await api("POST", `/api/agent/contacts/${enc(tab.cid)}/notes`, { text: text.value.trim() });
        n.list.append(noteLine(note));
        text.value = "";
      });
    });
    return n;
  }

  function noteLine(n) {
    return el("li", { "data-testid": "private-note" },
      el("strong", { text: n.agent_name || n.agent_id }), ` · ${new Date(n.at * 1000).toLocaleString()}: `, n.text);
  }

  // "Open case": a complaint case from this contact (its customer verified), with the categories
  // and severities of config/cases.yaml. Keyboard: the button opens the form with the focus on
  // the category; Escape closes it; Enter in a field or on the button submits.
  function makeCaseForm(tab) {
    const f = {};
    const category = el("select", { required: true, "data-testid": "case-category" });
    const severity = el("select", { required: true, "data-testid": "case-severity" });
    const description = el("textarea", { rows: 3, maxlength: 2000, required: true, "data-testid": "case-description" });
    f.status = el("p", { class: "muted", role: "status", "data-testid": "case-status" });
    f.form = el("form", { class: "card stack", hidden: true, "data-testid": "case-form", "aria-label": "Open a complaint case" },
      el("h3", { text: "Open a complaint case" }),
      el("label", {}, "Category", category),
      el("label", {}, "Severity", severity),
      el("label", {}, "What is the complaint?", description),
      el("div", { class: "row" },
        el("button", { class: "primary", type: "submit", "data-testid": "case-submit" }, "Open case"),
        el("button", { type: "button", "data-testid": "case-cancel", onclick: () => toggle(false) }, "Cancel")));
    f.open = el("button", { type: "button", hidden: true, "aria-expanded": "false", "data-testid": "case-open",
      onclick: () => act(() => toggle(f.form.hidden)) }, "Open case…");
    async function toggle(show) {
      if (show && !category.options.length) {
        const policy = await api("GET", "/api/cases/policy");
        category.replaceChildren(...policy.categories.map((c) => el("option", { value: c.id, text: c.name })));
        severity.replaceChildren(...policy.severities.map((s) => el("option", { value: s.id,
          text: `${s.name} (acknowledge ${s.acknowledge_within_hours} h, resolve ${s.resolve_within_hours} h)` })));
      }
      f.form.hidden = !show;
      f.open.setAttribute("aria-expanded", String(show));
      if (show) category.focus(); else f.open.focus();
    }
    f.form.addEventListener("keydown", (ev) => { if (ev.key === "Escape") toggle(false); });
    f.form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      if (!description.value.trim()) { flash("Describe the complaint."); description.focus(); return; }
      act(async () => {
        const c = await api("POST", `/api/agent/contacts/${enc(tab.cid)}/cases`,
          { category: category.value, severity: severity.value, description: description.value.trim() });
        description.value = "";
        f.status.textContent = `Case #${c.id} opened (${c.category_name}, ${c.severity}).`;
        await toggle(false);
        await loadScreenPop(tab);
      });
    });
    return f;
  }

  function caseLine(c) {
    return el("li", { "data-testid": "open-case", "data-case": c.id, class: c.overdue ? "overdue" : null },
      el("strong", { text: `#${c.id} ${c.category_name}` }),
      ` · ${c.severity} · ${c.status.replace(/_/g, " ")}${c.overdue ? " · overdue" : ""} · opened ${new Date(c.opened * 1000).toLocaleDateString()} by ${c.owner}`,
      c.description ? el("blockquote", { text: c.description }) : null);
  }

  // The transfer panel of a tab: the quick-connect list of queues and agents of its channel.
  function makeTransfer(tab) {
    const t = {};
    t.queue = el("select", { "data-testid": "transfer-queue" });
    t.agent = el("select", { "data-testid": "transfer-agent" });
    t.note = el("textarea", { rows: 2, maxlength: 2000, placeholder: "Note for the next agent", "data-testid": "transfer-note" });
    t.status = el("p", { class: "muted", "data-testid": "consult-status" });
    const send = (body) => act(async () => {
      if (t.note.value.trim()) body.note = t.note.value.trim();
      await api("POST", `/api/agent/contacts/${enc(tab.cid)}/transfer`, body);
      if (body.warm) { t.status.textContent = "Ringing your colleague…"; t.consulting.hidden = false; }
      else t.panel.hidden = true;
    });
    t.consulting = el("div", { class: "row", hidden: true },
      el("button", { class: "primary", "data-testid": "consult-complete",
        onclick: () => act(() => api("POST", `/api/agent/contacts/${enc(tab.cid)}/consult/complete`)) }, "Complete transfer"),
      el("button", { "data-testid": "consult-cancel",
        onclick: () => act(() => api("POST", `/api/agent/contacts/${enc(tab.cid)}/consult/cancel`)) }, "Cancel consult"));
    t.panel = el("div", { class: "card stack", hidden: true, "data-testid": "transfer-panel" },
      el("h3", { text: "Transfer" }),
      el("div", { class: "row" }, t.queue,
        el("button", { "data-testid": "transfer-to-queue", onclick: () => send({ to_queue: t.queue.value }) }, "To queue")),
      el("div", { class: "row" }, t.agent,
        el("button", { "data-testid": "transfer-to-agent", onclick: () => send({ to_agent: t.agent.value }) }, "To agent"),
        el("button", { "data-testid": "transfer-warm", onclick: () => send({ to_agent: t.agent.value, warm: true }) }, "Consult first")),
      t.note, t.status, t.consulting);
    t.open = el("button", { "data-testid": "transfer-open", onclick: () => act(async () => {
      const qc = await api("GET", `/api/agent/quick-connect?channel=${enc(tab.channel)}`);
      t.queue.replaceChildren(...qc.queues.map((q) => el("option", { value: q.queue, text: `${q.name || q.queue} (${q.waiting} waiting)` })));
      t.agent.replaceChildren(...qc.agents.map((a) => el("option", { value: a.agent, disabled: !a.can_take, text: `${a.name || a.agent} · ${a.state}` })));
      t.panel.hidden = !t.panel.hidden;
    }) }, "Transfer…");
    return t;
  }

  // The wrap-up's countdown: from the server's seconds left (the core ends it by itself at 0).
  function startWrap(tab, wrap) {
    clearInterval(tab.wrapTimer);
    if (!wrap) return;
    tab.setDispositions(wrap.dispositions);
    const until = performance.now() + wrap.seconds_left * 1000;
    const tick = () => {
      const left = Math.max(0, (until - performance.now()) / 1000);
      tab.wrapLeft.textContent = `Wrap-up ends in ${clock(Math.ceil(left))} (of ${clock(wrap.seconds)})`;
      tab.wrapLeft.classList.toggle("low", left <= 10);
    };
    tick();
    tab.wrapTimer = setInterval(tick, 250);
  }

  function setTabState(tab, state) {
    const started = state === "wrap_up" && tab.state !== "wrap_up";
    tab.state = state;
    const wrap = state === "wrap_up";
    const consult = state === "consult";
    const chat = tab.channel === "chat";
    tab.wrap.hidden = !wrap;
    tab.compose.hidden = wrap || consult || !(chat || tab.channel === "email");
    tab.hangup.hidden = wrap || consult;
    tab.hangup.textContent = chat ? "End chat" : tab.channel === "email" ? "Close" : "Hang up";
    tab.transfer.open.hidden = wrap || consult || Boolean(tab.callback);
    if (wrap || consult) tab.transfer.panel.hidden = true;
    tab.result.hidden = !(state === "active" && tab.callback && tab.callback.dialled_by === "agent" && tab.callback.status !== "connected");
    tab.button.classList.toggle("wrap", wrap);
    tab.button.classList.toggle("consult", consult);
    tab.notes.section.hidden = consult;
    const writing = document.activeElement && document.activeElement.tagName === "TEXTAREA";
    if (started && active === tab.cid && !writing) tab.disp.focus();  // not while a note is typed
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
    clearInterval(tab.wrapTimer);
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
      pop = await api("GET", `/api/agent/contacts/${enc(tab.cid)}`);
    } catch (e) {
      tab.card.replaceChildren(el("p", { class: "error", text: e.message }));
      return;
    }
    tab.channel = pop.channel;
    tab.callback = pop.callback;
    if (!tab.dispositions || !tab.dispositions.length) tab.setDispositions(pop.dispositions);
    if (pop.wrap_up) startWrap(tab, pop.wrap_up);
    tab.notes.show(pop.private_notes);
    const c = pop.customer;
    tab.button.textContent = (c.name || tab.cid) + (pop.channel === "voice" ? " ☎" : "");
    // Only an identity the site signed is verified; anything else is what the customer typed.
    const identity = c.verified ? "Verified: signed in on the site"
      : c.claimed_customer_id ? `Not verified: says they are customer ${c.claimed_customer_id}` : "Not verified";
    const rows = [["Name", c.verified ? c.name : `${c.name || "unknown"} (as typed)`], ["Tier", c.tier],
      ["Customer id", c.customer_id || (c.claimed_customer_id ? `${c.claimed_customer_id} (claimed, not verified)` : "not identified")],
      ["Topic", pop.topic || "–"], ["Queue", pop.queue_name || pop.queue], ["Waited", fmtSeconds(pop.wait_seconds)]];
    if (c.email) rows.push(["E-mail", c.email]);
    if (c.phone) rows.push(["Phone", c.phone]);
    if (pop.callback) rows.push(["Call back to", pop.callback.number], ["Attempt", `${pop.callback.attempt} of ${pop.callback.max_attempts}`]);
    const dl = el("dl", {});
    for (const [k, v] of rows) dl.append(el("dt", { text: k }), el("dd", { text: v }));
    const earlier = el("ul", { class: "history", "data-testid": "earlier-segments" },
      ...pop.earlier_segments.map((s) => el("li", {},
        `${s.agent_name || "–"} · ${s.queue_name} · ${s.end || "?"}${s.to_queue ? " → " + (s.to_agent_name || s.to_queue_name) : ""}`,
        s.note ? el("blockquote", { "data-testid": "transfer-note-shown", text: s.note }) : null)));
    const history = el("ul", { class: "history", "data-testid": "customer-history" },
      ...c.last_contacts.map((h) => historyLine(tab, h)));
    const cases = pop.open_cases || [];
    // (the DOM's replaceChildren writes a null as the text "null": only nodes go in)
    tab.card.replaceChildren(...[el("div", { class: "row" },
        el("h3", { "data-testid": "customer-name", text: c.name || "Customer" }),
        el("span", { class: c.verified ? "badge verified" : "badge unverified", "data-testid": "customer-verified",
          text: c.verified ? "verified" : "unverified" })),
      el("p", { class: c.verified ? "state-badge" : "state-badge error", "data-testid": "customer-identity", text: identity }), dl,
      cases.length ? el("h4", { text: `Open cases (${cases.length})` }) : null,
      cases.length ? el("ul", { class: "history", "data-testid": "open-cases" }, ...cases.map(caseLine)) : null,
      pop.earlier_segments.length ? el("h4", { text: "Before you" }) : null, pop.earlier_segments.length ? earlier : null,
      el("h4", { text: "Last contacts" }), c.last_contacts.length ? history : el("p", { class: "muted", text: "none" })].filter((n) => n));
    tab.cases.open.hidden = !c.verified;
    for (const ln of pop.transcript) addLine(tab, ln.sender, ln.text, ln.at);
    setTabState(tab, tab.state);
    if (pop.channel === "chat") tab.answers.load();
    if (pop.channel === "task") showTask(tab);
    if (pop.channel === "email") showMail(tab);
  }

  // An e-mail thread: every mail in and out (text; the HTML, sanitized by the server, only in a
  // sandboxed frame on demand: no scripts, no images), attachments as downloads, and the
  // answer box (standard answers as in chat); "Close" ends the contact (wrap-up follows).
  async function showMail(tab) {
    const t = await act(() => api("GET", `/api/agent/contacts/${enc(tab.cid)}/mail`));
    if (!t) return;
    if (!tab.mail) {
      const text = el("textarea", { rows: 8, maxlength: 100000, "data-testid": "mail-answer" });
      const form = el("form", { class: "stack mail-compose", "data-testid": "mail-compose" },
        el("label", {}, `Answer to ${t.customer_address}`, text),
        el("div", { class: "row" }, el("button", { class: "primary", type: "submit", "data-testid": "mail-send" }, "Send answer")));
      tab.mail = { thread: el("div", { class: "mail-thread", "data-testid": "mail-thread" }), form, text };
      form.addEventListener("submit", (ev) => {
        ev.preventDefault();
        if (!text.value.trim()) { flash("Write an answer first."); text.focus(); return; }
        act(async () => {
          await api("POST", `/api/agent/contacts/${enc(tab.cid)}/mail/answer`, { text: text.value });
          text.value = "";
          await showMail(tab);
        });
      });
      tab.mail.answers = makeAnswers({ cid: tab.cid, text, compose: form });
      tab.mail.answers.load();
      tab.transcript.replaceWith(tab.mail.thread);
      tab.compose.replaceWith(form);
      tab.compose = form;  // (hidden with the tab's state as a chat's reply box is)
    }
    tab.button.textContent = `✉ ${t.subject || "(no subject)"}`;
    tab.mail.thread.replaceChildren(el("h3", { "data-testid": "mail-subject", text: `${t.subject || "(no subject)"} · ${t.reference}` }),
      ...t.mails.map((m) => mailItem(tab, m)));
    setTabState(tab, tab.state);
  }

  const MAIL_FROM = { in: "Customer", out: "Answer", ack: "Automatic acknowledgement", survey: "Survey link" };
  function mailItem(tab, m) {
    const head = `${MAIL_FROM[m.direction] || m.direction} · ${m.sender} · ${fmtTime(m.wall_time)}` +
      (m.direction !== "in" ? (m.sent ? " · sent" : " · waiting to be sent") : "");
    const body = el("pre", { class: "mail-text", "data-testid": "mail-text", text: m.text });
    const item = el("article", { class: `mail ${m.direction}`, "data-testid": "mail", "data-direction": m.direction },
      el("p", { class: "muted", text: head }), body);
    if (m.html) {
      const show = el("button", { type: "button", "aria-expanded": "false", "data-testid": "mail-show-html" }, "Show formatted");
      show.addEventListener("click", () => {
        const open = show.getAttribute("aria-expanded") !== "true";
        show.setAttribute("aria-expanded", String(open));
        show.textContent = open ? "Show text" : "Show formatted";
        const frame = item.querySelector("iframe");
        if (open && !frame) {
          body.hidden = true;
          item.append(el("iframe", { sandbox: "", referrerpolicy: "no-referrer", title: "The mail as formatted", srcdoc: m.html, "data-testid": "mail-html" }));
        } else if (!open && frame) { frame.remove(); body.hidden = false; }
      });
      item.append(show);
    }
    if (m.attachments.length) {
      item.append(el("ul", { class: "attachments", "data-testid": "mail-attachments" }, ...m.attachments.map((a) => el("li", {},
        a.kept ? el("a", { href: `/api/agent/contacts/${enc(tab.cid)}/mail/attachments/${a.id}`, download: a.filename, "data-testid": "mail-attachment" },
          `${a.filename} (${fmtBytes(a.size)})`)
          : el("span", { class: "muted", text: `${a.filename} (${fmtBytes(a.size)}): over the size limit, not kept` })))));
    }
    return item;
  }

  function fmtBytes(n) {
    return n >= 1048576 ? `${(n / 1048576).toFixed(1)} MB` : n >= 1024 ? `${Math.round(n / 1024)} kB` : `${n} bytes`;
  }

  // A case's follow-up task routed as work: its case, what to do and when it was due; "Done"
  // marks it done and ends the contact (wrap-up follows). A task is never hung up.
  async function showTask(tab) {
    const t = await act(() => api("GET", `/api/agent/contacts/${enc(tab.cid)}/task`));
    if (!t) return;
    tab.hangup.hidden = true;
    tab.transfer.open.hidden = true;
    tab.button.textContent = `Case #${t.case_id} task`;
    const done = el("button", { class: "primary", "data-testid": "task-done", hidden: tab.state !== "active",
      onclick: () => act(async () => { await api("POST", `/api/agent/contacts/${enc(tab.cid)}/task/done`); done.hidden = true; }) }, "Done");
    tab.card.replaceChildren(el("h3", { "data-testid": "task-case", text: `Case #${t.case_id} · ${t.category_name}` }),
      el("p", { "data-testid": "task-title", text: t.title || "(no text)" }),
      el("dl", {}, el("dt", { text: "Due" }), el("dd", { "data-testid": "task-due", text: new Date(t.due * 1000).toLocaleString() }),
        el("dt", { text: "Severity" }), el("dd", { text: t.severity }), el("dt", { text: "Case" }), el("dd", { text: `${t.status}, owner ${t.owner}` })),
      done);
  }

  // A past contact of the verified customer: when, how, where, who, how it ended, the CSAT score,
  // the wrap-up and private notes, and its transcript on demand.
  function historyLine(tab, h) {
    const parts = [new Date(h.arrived * 1000).toLocaleString(), h.channel, h.queue_name || h.queue,
      h.agent_name || "no agent", h.outcome || "?"];
    if (h.disposition) parts.push(h.disposition);
    if (h.csat !== null && h.csat !== undefined) parts.push(`CSAT ${h.csat}/5`);
    const li = el("li", { "data-testid": "history-line", "data-contact": h.contact_id }, parts.join(" · "));
    if (h.wrap_up_notes) li.append(el("blockquote", { "data-testid": "history-notes", text: h.wrap_up_notes }));
    for (const n of h.private_notes) li.append(el("blockquote", { class: "private", "data-testid": "history-private-note" }, el("strong", { text: `${n.agent_name || n.agent_id}: ` }), n.text));
    if (h.transcript) {
      const lines = el("ul", { class: "transcript past", hidden: true, "data-testid": "history-transcript" });
      const link = el("a", { href: `/api/agent/contacts/${enc(h.contact_id)}/transcript`, "aria-expanded": "false",
        "data-testid": "history-transcript-link" }, "Transcript");
      link.addEventListener("click", (ev) => {
        ev.preventDefault();
        const show = lines.hidden;
        link.setAttribute("aria-expanded", String(show));
        if (!show) { lines.hidden = true; return; }
        act(async () => {
          const t = await api("GET", link.getAttribute("href"));
          lines.replaceChildren(...(t.transcript.length ? t.transcript.map((ln) => el("li", { class: ln.sender, text: ln.text }))
            : [el("li", { class: "system", text: "No lines." })]));
          lines.hidden = false;
        });
      });
      li.append(" · ", link, lines);
    }
    return li;
  }

  // -- call backs ----------------------------------------------------------------------------

  function buildCallbacks() {
    const list = el("tbody", { "data-testid": "callback-rows" });
    const queue = el("select", { "data-testid": "callback-queue" });
    const number = el("input", { type: "tel", maxlength: 32, placeholder: "+4930…", "data-testid": "callback-number" });
    const name = el("input", { maxlength: 100, placeholder: "Name (optional)", "data-testid": "callback-name" });
    const at = el("input", { type: "datetime-local", "data-testid": "callback-at" });
    const form = el("form", { class: "row" }, queue, number, name, at,
      el("button", { class: "primary", type: "submit", "data-testid": "callback-book" }, "Book call back"));
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      act(async () => {
        const body = { queue: queue.value, number: number.value.replace(/[\s()/-]/g, "") };
        if (name.value.trim()) body.name = name.value.trim();
        if (at.value) body.due_at = new Date(at.value).toISOString();
        if (active && tabs.get(active) && tabs.get(active).state !== "consult") body.contact_id = active;
        await api("POST", "/api/callbacks", body);
        number.value = ""; name.value = ""; at.value = "";
        await refresh();
      });
    });
    async function refresh() {
      const rows = await api("GET", "/api/callbacks");
      list.replaceChildren(...rows.map((c) => el("tr", { "data-callback": c.id },
        el("td", { text: c.queue }), el("td", { text: c.name || c.number }), el("td", { text: c.status }),
        el("td", { text: new Date(c.due * 1000).toLocaleString() }), el("td", { class: "num", text: c.attempts }))));
    }
    const section = el("section", { class: "card", "data-testid": "callbacks" },
      el("h2", { text: "Call backs" }), form,
      el("table", {}, el("thead", {}, el("tr", {}, el("th", { text: "Queue" }), el("th", { text: "Customer" }),
        el("th", { text: "Status" }), el("th", { text: "Due" }), el("th", { class: "num", text: "Attempts" }))), list));
    return {
      section, refresh,
      setQueues(queues) { queue.replaceChildren(...queues.map((q) => el("option", { value: q.queue, text: q.name || q.queue }))); },
    };
  }

  // -- live frames ---------------------------------------------------------------------------

  function onSnapshot(s) {
    setBadge(s.state.state, s.state.reason, s.state.since_seconds);
    const held = new Set();
    for (const c of s.contacts) {
      if (c.state === "offered" && !c.consult) continue;
      held.add(c.contact_id);
      const tab = openTab(c.contact_id, c.consult ? "consult" : c.state, false);
      if (c.wrap_up) startWrap(tab, c.wrap_up);
    }
    for (const cid of [...tabs.keys()]) if (!held.has(cid)) closeTab(cid);
    if (s.offer) showOffer(s.offer); else hideOffer();
  }

  function onFrame(f) {
    const tab = f.contact_id ? tabs.get(f.contact_id) : null;
    switch (f.type) {
      case "snapshot": onSnapshot(f); break;
      case "state": setBadge(f.state, f.reason, f.since_seconds); break;
      case "offer": showOffer(f); break;
      case "offer_withdrawn":
        if (offer && offer.contact_id === f.contact_id) {
          hideOffer();
          if (f.reason === "timeout") flash("You missed an offer.");
          if (f.reason === "contact_left") flash("The customer left before you answered.");
          if (f.reason === "unreachable") flash("Your phone could not be reached: is it on and registered?");
        }
        break;
      case "caller_hold":
        if (tab) addLine(tab, "system", f.held ? "The caller put you on hold." : "The caller is back.", null);
        break;
      case "answered":
        if (offer && offer.contact_id === f.contact_id) hideOffer();
        hideConsult(f.contact_id);
        openTab(f.contact_id, "active", true);
        break;
      case "completed": case "handed_off":
        if (tab) {
          startWrap(tab, f.wrap_up);
          setTabState(tab, "wrap_up");
          if (f.type === "handed_off" && f.to_queue) addLine(tab, "system", `Transferred to ${f.to_agent || f.to_queue}.`, null);
        }
        break;
      case "wrapup_ended": closeTab(f.contact_id); break;
      case "consult_offer": showConsult(f); break;
      case "consult_ringing": if (tab) tab.transfer.status.textContent = "Ringing your colleague…"; break;
      case "consult_answered":
        hideConsult(f.contact_id);
        if (tab && tab.state !== "consult") tab.transfer.status.textContent = "Your colleague is on: complete the transfer or cancel.";
        break;
      case "consult_ended":
        hideConsult(f.contact_id);
        if (tab && tab.state === "consult") closeTab(f.contact_id);
        else if (tab) { tab.transfer.status.textContent = `Consult ended (${f.reason}).`; tab.transfer.consulting.hidden = true; }
        break;
      case "message":
        if (tab) addLine(tab, f.sender, f.text, f.at);
        break;
      case "mail": if (tab && tab.mail) showMail(tab); break;
      case "chat_closed":
        if (tab && f.by === "customer") addLine(tab, "system", "The customer left the chat.", null);
        break;
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
    document.addEventListener("keydown", onShortcut);
    for (const kind of ["pointerdown", "keydown"]) document.addEventListener(kind, wakeAudio);
    setInterval(tickState, 250);
    socket("/api/agent/ws", onFrame, (st) => { if (st === "closed") flash("Connection lost, reconnecting…"); else flash(""); });
    api("GET", "/api/agent/quick-connect?channel=voice").then((qc) => ui.callbacks.setQueues(qc.queues)).catch(() => {});
    ui.callbacks.refresh().catch(() => {});
    setInterval(() => ui.callbacks.refresh().catch(() => {}), 15000);
  }

  main().catch((e) => { root.replaceChildren(el("p", { class: "error", text: e.message })); });
})();
