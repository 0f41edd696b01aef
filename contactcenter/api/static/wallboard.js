// The live wallboard a supervisor runs the floor from. What it shows comes from the wallboard
// WebSocket (a snapshot on connect and on every change): per queue the agents by what they do,
// waiting and oldest wait, today's service level against its goal, ASA, AHT, abandon rate and
// call backs; per agent the state and time in it, contacts, handled, occupancy; the waiting
// contacts in serving order. What it does goes through the supervisors' API routes, so their
// role checks and audit apply: set an agent's state, move a waiting contact, change its
// priority, ask why a contact waits (the core's explain); reschedule or cancel a call back.
// A refusal is shown, never swallowed. Rows are kept per key across snapshots, so a refresh
// never takes the keyboard focus or a half-typed value away. No customer data is shown.
"use strict";

(() => {
  const { el, api, socket, fmtPercent, ensureLogin, logout } = cc;
  const $ = (testid) => document.querySelector(`[data-testid="${testid}"]`);
  const enc = encodeURIComponent;
  const STATES = ["available", "ringing", "busy", "wrap_up", "away", "offline"];
  const REASONS = {
    not_member: "not in the queue", skill: "lack the skill", proficiency: "too low a proficiency",
    tier_level: "not at this tier level yet", dedicated_only: "step for the dedicated agent only",
    step: "eligible at a later step", offline: "offline", away: "away",
    offered: "being offered another contact", capacity: "at capacity", wrap_up: "in wrap-up",
    blocked: "blocked by a contact of another channel", excluded: "declined or missed it",
  };
  const gate = document.getElementById("gate");
  const board = document.getElementById("board");
  const error = $("wallboard-error");
  const done = $("action-status");
  let me = null;
  let last = null; // the latest snapshot
  let received = 0; // when it came (performance.now())
  let queues = new Map(); // queue id -> its row of the latest snapshot
  const agentNames = new Map();
  let callbacksSeen = "";
  let explainFrom = null; // the button that opened the explanation (focus goes back to it)

  // -- formats -----------------------------------------------------------------------------

  // A duration as people read it: "30 s", "2 min 5 s", "1 h 2 min", "24 h".
  function duration(seconds) {
    if (seconds === null || seconds === undefined) return "–";
    const s = Math.max(0, Math.round(seconds));
    if (s < 60) return `${s} s`;
    if (s < 3600) {
      const m = Math.floor(s / 60), r = s % 60;
      return r ? `${m} min ${r} s` : `${m} min`;
    }
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    return m ? `${h} h ${m} min` : `${h} h`;
  }
  const since = () => (performance.now() - received) / 1000;
  const stateText = (state, reason) => {
    const word = state.replace("_", "-");
    return reason ? `${word} (${reason})` : word;
  };
  const queueName = (qid) => (queues.get(qid) || {}).name || qid;
  const agentName = (aid) => agentNames.get(aid) || aid;

  function setText(node, text) {
    const t = String(text);
    if (node.textContent !== t) node.textContent = t;
  }
  function field(tr, name) { return tr.querySelector(`[data-field="${name}"]`); }
  function cell(label, name, cls) {
    return el("td", { class: cls || null, "data-label": label, "data-field": name });
  }

  // Keeps one row per key in `tbody`, in the order of `items`: existing rows are updated in
  // place (their inputs, and the focus, stay), new ones made, gone ones removed.
  function syncRows(tbody, items, keyOf, make, update) {
    const old = new Map([...tbody.children].map((tr) => [tr.dataset.key, tr]));
    const focused = document.activeElement;
    let prev = null;
    for (const item of items) {
      const key = String(keyOf(item));
      let tr = old.get(key);
      if (tr) old.delete(key);
      else { tr = make(item); tr.dataset.key = key; }
      update(tr, item);
      const at = prev ? prev.nextSibling : tbody.firstChild;
      if (at !== tr) tbody.insertBefore(tr, at);
      prev = tr;
    }
    for (const tr of old.values()) tr.remove();
    const none = tbody.closest("table").parentElement.querySelector("[data-testid$='-none']");
    if (none) none.hidden = items.length > 0;
    if (focused && focused.isConnected && document.activeElement !== focused) focused.focus();
  }

  // -- actions -----------------------------------------------------------------------------

  function refusal(what, e) {
    if (e.status === 401) return `${what}: your session has ended. Reload the page to log in again.`;
    if (e.status === 403) return `${what} was refused: ${e.message} (HTTP 403).`;
    return `${what} failed: ${e.message}${e.status ? ` (HTTP ${e.status})` : ""}.`;
  }

  // Runs one action; says what it did or why not (role=status / role=alert).
  async function act(what, fn) {
    error.textContent = "";
    done.textContent = "";
    try {
      const said = await fn();
      done.textContent = said || `${what}: done.`;
      return true;
    } catch (e) {
      error.textContent = refusal(what, e);
      return false;
    }
  }

  // -- queues --------------------------------------------------------------------------------

  const QUEUE_CELLS = [
    ["Staffed", "staffed", "num"], ["Available", "available", "num"],
    ["On contact", "on-contact", "num"], ["After-contact work", "acw", "num"], ["Away", "away", "num"],
    ["Waiting", "waiting", "num"], ["Oldest wait", "oldest", "num"], ["Service level", "sl", "num"],
    ["Target", "target", "num"], ["ASA", "asa", "num"], ["AHT", "aht", "num"],
    ["Abandon rate", "abandon-rate", "num"], ["Offered", "offered", "num"],
    ["Answered", "answered", "num"], ["Abandoned", "abandoned", "num"],
    ["Transfers in/out", "transfers", "num"], ["Call backs due now/later", "callbacks", "num"],
    ["Oldest call back", "callbacks-oldest", "num"],
  ];

  function makeQueueRow(q) {
    return el("tr", { "data-queue": q.queue },
      el("th", { scope: "row", "data-label": "Queue" },
        el("span", { "data-field": "name" }), " ", el("span", { class: "channel", "data-field": "channel" })),
      ...QUEUE_CELLS.map(([label, name, cls]) => cell(label, name, cls)));
  }

  function updateQueueRow(tr, q) {
    const sl = q.service_level;
    const callbacks = q.callbacks_due + q.callbacks_scheduled + q.callbacks_in_progress;
    const values = {
      name: q.name || q.queue, channel: q.channel,
      staffed: q.agents_staffed, available: q.agents_available, "on-contact": q.agents_on_contact,
      acw: q.agents_after_contact_work, away: q.agents_away, waiting: q.waiting,
      sl: fmtPercent(q.service_level),
      target: `${fmtPercent(q.service_level_goal)} in ${duration(q.answer_threshold_seconds)}`,
      asa: duration(q.asa_seconds), aht: duration(q.aht_seconds),
      "abandon-rate": fmtPercent(q.abandon_rate), offered: q.offered, answered: q.answered,
      abandoned: q.abandoned, transfers: `${q.transfers_in}/${q.transfers_out}`,
      callbacks: `${q.callbacks_due}/${q.callbacks_scheduled}` +
        (q.callbacks_in_progress ? ` (+${q.callbacks_in_progress} calling)` : ""),
      "callbacks-oldest": callbacks ? duration(q.callbacks_oldest_seconds) : "–",
    };
    for (const [name, text] of Object.entries(values)) setText(field(tr, name), text);
    field(tr, "sl").classList.toggle("sl-ok", sl !== null && sl >= q.service_level_goal);
    field(tr, "sl").classList.toggle("sl-bad", sl !== null && sl < q.service_level_goal);
    tickQueue(tr, q);
  }

  function tickQueue(tr, q) {
    const oldest = q.oldest_wait_seconds + since();
    const cellNode = field(tr, "oldest");
    setText(cellNode, q.waiting ? duration(oldest) : "–");
    cellNode.classList.toggle("over", q.waiting > 0 && oldest > q.answer_threshold_seconds);
  }

  // -- waiting contacts ------------------------------------------------------------------------

  function describe(w) {
    return `the contact at place ${w.place} in ${queueName(w.queue)}`;
  }

  function makeWaitingRow(w) {
    const prio = el("input", { type: "number", min: 0, max: 10000, class: "narrow", "data-testid": "priority-input" });
    prio.addEventListener("input", () => { prio.dataset.dirty = "1"; });
    const setPrio = el("button", { type: "button", "data-testid": "priority-set" }, "Set");
    const move = el("select", { "data-testid": "move-queue" });
    const go = el("button", { type: "button", "data-testid": "move-go" }, "Move");
    const why = el("button", { type: "button", class: "why", "data-testid": "explain-open" }, "Why waiting?");
    const tr = el("tr", { "data-contact": w.contact_id },
      cell("Queue", "queue"), cell("Place", "place", "num"), cell("Tier", "tier"),
      cell("Waiting", "wait", "num"),
      el("td", { "data-label": "Priority", class: "controls" }, prio, setPrio),
      el("td", { "data-label": "Move to", class: "controls" }, move, go),
      el("td", { "data-label": "Why?", class: "controls" }, why));
    const row = () => tr.item; // the contact as the latest snapshot has it
    prio.addEventListener("keydown", (ev) => { if (ev.key === "Enter") setPrio.click(); });
    setPrio.addEventListener("click", () => act("Changing the priority", async () => {
      const w2 = row();
      const res = await api("PUT", `/api/supervisor/contacts/${enc(w2.contact_id)}/priority`, { priority: Number(prio.value) });
      delete prio.dataset.dirty;
      prio.value = res.priority;
      return `The priority of ${describe(w2)} is now ${res.priority}.`;
    }));
    go.addEventListener("click", () => act("Moving the contact", async () => {
      const w2 = row();
      if (!move.value) throw new Error(`no other ${w2.channel} queue to move it to`);
      await api("POST", `/api/supervisor/contacts/${enc(w2.contact_id)}/move`, { queue: move.value });
      return `Moved ${describe(w2)} to ${queueName(move.value)}.`;
    }));
    why.addEventListener("click", () => explain(row(), why));
    return tr;
  }

  function updateWaitingRow(tr, w) {
    tr.item = w;
    setText(field(tr, "queue"), w.queue);
    setText(field(tr, "place"), w.place);
    setText(field(tr, "tier"), w.tier);
    tr.classList.toggle("ringing", w.state === "offered");
    const prio = tr.querySelector("[data-testid=priority-input]");
    if (document.activeElement !== prio && !prio.dataset.dirty) prio.value = w.priority;
    const move = tr.querySelector("[data-testid=move-queue]");
    if (move.dataset.from !== w.queue) {
      const chosen = move.value;
      move.replaceChildren(...[...queues.values()]
        .filter((q) => q.channel === w.channel && q.queue !== w.queue)
        .map((q) => el("option", { value: q.queue, text: q.name || q.queue })));
      if ([...move.options].some((o) => o.value === chosen)) move.value = chosen;
      move.dataset.from = w.queue;
    }
    const who = describe(w);
    prio.setAttribute("aria-label", `Priority of ${who}`);
    tr.querySelector("[data-testid=priority-set]").setAttribute("aria-label", `Set the priority of ${who}`);
    move.setAttribute("aria-label", `Queue to move ${who} to`);
    tr.querySelector("[data-testid=move-go]").setAttribute("aria-label", `Move ${who}`);
    tr.querySelector("[data-testid=explain-open]").setAttribute("aria-label", `Why waiting? ${who}`);
    tickWaiting(tr, w);
  }

  function tickWaiting(tr, w) {
    const ringing = w.state === "offered" ? ` · ringing ${agentName(w.agent)}` : "";
    setText(field(tr, "wait"), duration(w.wait_seconds + since()) + ringing);
  }

  // -- why is this contact waiting? ----------------------------------------------------------

  async function explain(w, from) {
    explainFrom = from;
    await act("Asking why the contact waits", async () => {
      const ex = await api("GET", `/api/supervisor/contacts/${enc(w.contact_id)}/explain`);
      showExplanation(ex, w);
      return `Explained why ${describe(w)} waits.`;
    });
  }

  function showExplanation(ex, w) {
    const panel = $("explain");
    const eligible = ex.candidates.filter((c) => c.eligible);
    const parts = [`Contact ${ex.contact_id} (place ${w.place} in ${queueName(ex.queue)}) has ` +
      `waited ${duration(ex.wait_seconds)}, at escalation step ${ex.step + 1} of ${ex.steps}.`];
    if (ex.state === "offered" && ex.agent) parts.push(`It is ringing at ${agentName(ex.agent)}.`);
    else if (ex.state !== "waiting") parts.push(`It is ${ex.state.replace("_", "-")} now.`);
    else if (!ex.candidates.length) parts.push("No agent can serve this queue at any step.");
    else if (eligible.length) {
      parts.push(`${eligible.length} agent${eligible.length > 1 ? "s" : ""} could take it now ` +
        `(${eligible.map((c) => c.name || c.agent_id).join(", ")}); contacts ahead of it are served first.`);
    } else {
      const counts = new Map();
      for (const c of ex.candidates) counts.set(c.reason, (counts.get(c.reason) || 0) + 1);
      const why = [...counts].sort((a, b) => b[1] - a[1])
        .map(([reason, n]) => `${n} ${REASONS[reason] || reason}`).join(", ");
      parts.push(`No agent can take it now: ${why}.`);
    }
    setText($("explain-summary"), parts.join(" "));
    $("explain-rows").replaceChildren(...ex.candidates.map((c) => el("tr", { "data-agent": c.agent_id },
      el("td", { "data-label": "Agent", text: `${c.name || c.agent_id} (${c.agent_id})` }),
      el("td", { "data-label": "Can take it now", "data-field": "eligible", text: c.eligible ? "yes" : "no" }),
      el("td", { "data-label": "Why not", "data-field": "why", text: c.eligible ? "–" : c.detail }))));
    panel.hidden = false;
    panel.focus();
  }

  function closeExplanation() {
    $("explain").hidden = true;
    if (explainFrom && explainFrom.isConnected) explainFrom.focus();
  }

  // -- agents ---------------------------------------------------------------------------------

  function makeAgentRow(a) {
    const choice = el("select", { "data-testid": "agent-state-choice" },
      el("option", { value: "available", text: "Available" }),
      ...me.away_reasons.map((r) => el("option", { value: `away:${r}`, text: `Away: ${r}` })),
      el("option", { value: "offline", text: "Offline (log out)" }));
    const apply = el("button", { type: "button", "data-testid": "agent-state-set" }, "Set");
    const tr = el("tr", { "data-agent": a.agent },
      el("th", { scope: "row", "data-label": "Agent", "data-field": "name" }),
      el("td", { "data-label": "State" },
        el("span", { class: "state-badge", "data-field": "state" })),
      cell("For", "for", "num"), cell("Contacts", "contacts"), cell("Handled", "handled", "num"),
      cell("Occupancy", "occupancy", "num"),
      el("td", { "data-label": "Set state", class: "controls" }, choice, apply));
    choice.addEventListener("change", () => { choice.dataset.dirty = "1"; });
    apply.addEventListener("click", () => act("Setting the agent's state", async () => {
      const [state, reason] = choice.value.split(":");
      const res = await api("PUT", `/api/supervisor/agents/${enc(a.agent)}/state`,
        reason ? { state, reason } : { state });
      delete choice.dataset.dirty;
      return `${agentName(a.agent)} is now ${stateText(res.state, res.reason)}.`;
    }));
    return tr;
  }

  function updateAgentRow(tr, a) {
    tr.item = a;
    setText(field(tr, "name"), a.name || a.agent);
    const badge = field(tr, "state");
    setText(badge, stateText(a.state, a.reason));
    badge.className = `state-badge state-${a.state}`;
    const byChannel = new Map();
    for (const c of a.contacts) byChannel.set(c.channel, (byChannel.get(c.channel) || 0) + 1);
    setText(field(tr, "contacts"), [...byChannel].map(([ch, n]) => `${n} ${ch}`).join(", ") || "–");
    setText(field(tr, "handled"), a.handled);
    setText(field(tr, "occupancy"), fmtPercent(a.occupancy));
    const choice = tr.querySelector("[data-testid=agent-state-choice]");
    if (document.activeElement !== choice && !choice.dataset.dirty) {
      choice.value = a.state === "away" && a.reason ? `away:${a.reason}` : a.state === "offline" ? "offline" : "available";
      if (!choice.value) choice.value = "available"; // a reason only the system sets
    }
    const who = a.name || a.agent;
    choice.setAttribute("aria-label", `New state for ${who}`);
    tr.querySelector("[data-testid=agent-state-set]").setAttribute("aria-label", `Set the state of ${who}`);
    tickAgent(tr, a);
  }

  function tickAgent(tr, a) { setText(field(tr, "for"), duration(a.since + since())); }

  // -- call backs -------------------------------------------------------------------------------

  async function loadCallbacks() {
    const rows = await api("GET", "/api/callbacks");
    syncRows($("wallboard-callback-rows"), rows, (c) => c.id, makeCallbackRow, updateCallbackRow);
  }

  function makeCallbackRow(c) {
    const at = el("input", { type: "datetime-local", "data-testid": "reschedule-at", "aria-label": `New time for call back ${c.id}` });
    const tr = el("tr", { "data-callback": c.id },
      cell("Queue", "queue"), cell("Status", "status"), cell("Due", "due"), cell("Attempts", "attempts", "num"),
      el("td", { "data-label": "Change", class: "controls" }, at,
        el("button", { type: "button", "data-testid": "reschedule", "aria-label": `Reschedule call back ${c.id}`,
          onclick: () => act("Rescheduling the call back", async () => {
            await api("POST", `/api/callbacks/${c.id}/reschedule`, { due_at: new Date(at.value || Date.now()).toISOString() });
            await loadCallbacks();
            return `Call back ${c.id} rescheduled.`;
          }) }, "Reschedule"),
        el("button", { type: "button", class: "danger", "data-testid": "callback-cancel", "aria-label": `Cancel call back ${c.id}`,
          onclick: () => act("Cancelling the call back", async () => {
            await api("POST", `/api/callbacks/${c.id}/cancel`);
            await loadCallbacks();
            return `Call back ${c.id} cancelled.`;
          }) }, "Cancel")));
    return tr;
  }

  function updateCallbackRow(tr, c) {
    const busy = c.status === "dialing" || c.status === "connected";
    setText(field(tr, "queue"), c.queue);
    setText(field(tr, "status"), c.status);
    setText(field(tr, "due"), new Date(c.due * 1000).toLocaleString());
    setText(field(tr, "attempts"), c.attempts);
    for (const b of tr.querySelectorAll("button")) b.disabled = busy;
  }

  // -- the snapshot ---------------------------------------------------------------------------------

  function render(s) {
    last = s;
    received = performance.now();
    queues = new Map(s.queues.map((q) => [q.queue, q]));
    for (const a of s.agents) agentNames.set(a.agent, a.name || a.agent);
    setText(document.getElementById("center"), `Wallboard · ${s.center}`);
    $("agent-tiles").replaceChildren(...STATES.map((st) => el("div", { class: "tile", "data-state": st },
      el("div", { class: "n", "data-testid": `agents-${st}`, text: s.agents_by_state[st] || 0 }),
      el("div", { class: "muted", text: st.replace("_", "-") }))));
    syncRows($("queue-rows"), s.queues, (q) => q.queue, makeQueueRow, updateQueueRow);
    syncRows($("waiting-rows"), s.waiting, (w) => w.contact_id, makeWaitingRow, updateWaitingRow);
    syncRows($("agent-rows"), s.agents, (a) => a.agent, makeAgentRow, updateAgentRow);
    const shown = new Map();
    for (const w of s.waiting) shown.set(w.queue, (shown.get(w.queue) || 0) + 1);
    const more = s.queues.filter((q) => q.waiting > (shown.get(q.queue) || 0))
      .map((q) => `${q.name || q.queue}: the first ${shown.get(q.queue) || 0} of ${q.waiting}`);
    setText($("waiting-more"), more.length ? `Shown: ${more.join("; ")}.` : "");
    const started = new Date(s.started * 1000);
    setText($("today-note"), "Today: since midnight in the center's time zone " +
      `(engine running since ${started.toLocaleString()}). ` +
      "Target: the service level goal within the answer threshold.");
    setText($("wallboard-updated"), `Updated ${new Date().toLocaleTimeString()}`);
    const problems = s.problems || [];
    $("wallboard-problems").hidden = problems.length === 0;
    setText($("wallboard-problems"), problems.length ? `Not serving fully: ${problems.join("; ")}.` : "");
    const pending = s.queues.map((q) => `${q.callbacks_scheduled}/${q.callbacks_due}/${q.callbacks_in_progress}`).join();
    if (pending !== callbacksSeen) {
      callbacksSeen = pending;
      loadCallbacks().catch((e) => { error.textContent = refusal("Loading the call backs", e); });
    }
  }

  // Times count up between snapshots.
  function tick() {
    if (!last) return;
    for (const tr of $("queue-rows").children) tickQueue(tr, queues.get(tr.dataset.key));
    for (const tr of $("waiting-rows").children) tickWaiting(tr, tr.item);
    for (const tr of $("agent-rows").children) tickAgent(tr, tr.item);
  }

  // -- start ------------------------------------------------------------------------------------

  function refuse(e) {
    const why = e.status === 403
      ? `The server refused: ${e.message} (HTTP 403). ${me.username} is logged in as ${me.role}.`
      : refusal("Opening the wallboard", e);
    gate.replaceChildren(el("div", { class: "card refusal", role: "alert", "data-testid": "wallboard-refused" },
      el("h2", { text: "The wallboard is for supervisors" }),
      el("p", { text: why }),
      el("button", { type: "button", "data-testid": "logout", onclick: logout }, "Log out")));
  }

  async function main() {
    me = await ensureLogin(gate, "Supervisor log-in");
    try {
      await api("GET", "/api/supervisor/queues"); // the server decides who may see the board
    } catch (e) {
      refuse(e);
      return;
    }
    gate.hidden = true;
    board.hidden = false;
    $("explain-close").addEventListener("click", closeExplanation);
    $("explain").addEventListener("keydown", (ev) => { if (ev.key === "Escape") closeExplanation(); });
    const conn = document.getElementById("conn");
    socket("/api/wallboard/ws", (f) => { if (f.type === "snapshot") render(f); },
      (st) => { conn.textContent = st === "open" ? "● live" : "○ reconnecting"; });
    setInterval(tick, 1000);
    // A call back's status can change without changing the counts (e.g. rescheduled).
    setInterval(() => { callbacksSeen = ""; }, 30000);
  }

  main().catch((e) => {
    gate.replaceChildren(el("p", { class: "error", role: "alert", text: e.message }));
  });
})();
