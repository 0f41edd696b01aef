// The live wallboard: queues (service level against target, oldest waiting, call backs,
// transfers) and agents by state, pushed over the wallboard WebSocket; and what a supervisor
// acts on: waiting contacts (move to another queue, change priority) and call backs
// (reschedule, cancel). No customer data is shown.
"use strict";

(() => {
  const { el, api, socket, fmtSeconds, fmtPercent, ensureLogin } = cc;
  const root = document.getElementById("root");
  const STATES = ["available", "ringing", "busy", "wrap_up", "away", "offline"];
  const enc = encodeURIComponent;
  let tiles, body, agentsList, updated, waitingList, callbackList, error;
  let queues = [];

  function build() {
    tiles = el("div", { class: "tiles", "data-testid": "agent-tiles" });
    body = el("tbody", { "data-testid": "queue-rows" });
    agentsList = el("tbody", { "data-testid": "agent-rows" });
    updated = el("p", { class: "muted", "data-testid": "wallboard-updated" });
    waitingList = el("tbody", { "data-testid": "waiting-rows" });
    callbackList = el("tbody", { "data-testid": "wallboard-callback-rows" });
    error = el("p", { class: "error", role: "alert", "data-testid": "wallboard-error" });
    root.replaceChildren(
      el("section", { class: "card" }, el("h2", { text: "Agents" }), tiles),
      el("section", { class: "card" }, el("h2", { text: "Queues" }),
        el("table", {}, el("thead", {}, el("tr", {},
          el("th", { text: "Queue" }), el("th", { text: "Channel" }),
          el("th", { class: "num", text: "Waiting" }), el("th", { class: "num", text: "Oldest" }),
          el("th", { class: "num", text: "Offered" }), el("th", { class: "num", text: "Answered" }),
          el("th", { class: "num", text: "Abandoned" }), el("th", { class: "num", text: "Service level" }),
          el("th", { class: "num", text: "Target" }), el("th", { class: "num", text: "ASA" }),
          el("th", { class: "num", text: "Transfers in/out" }), el("th", { class: "num", text: "Call backs due/later" }),
          el("th", { class: "num", text: "Oldest call back" }))), body)),
      el("section", { class: "card" }, el("h2", { text: "Waiting contacts" }), error,
        el("table", {}, el("thead", {}, el("tr", {}, el("th", { text: "Queue" }), el("th", { class: "num", text: "Place" }),
          el("th", { text: "Tier" }), el("th", { class: "num", text: "Waiting" }), el("th", { class: "num", text: "Priority" }),
          el("th", { text: "Move to" }))), waitingList)),
      el("section", { class: "card" }, el("h2", { text: "Call backs" }),
        el("table", {}, el("thead", {}, el("tr", {}, el("th", { text: "Queue" }), el("th", { text: "Status" }),
          el("th", { text: "Due" }), el("th", { class: "num", text: "Attempts" }), el("th", { text: "" }))), callbackList)),
      el("section", { class: "card" }, el("h2", { text: "Logged-in agents" }),
        el("table", {}, el("thead", {}, el("tr", {}, el("th", { text: "Agent" }), el("th", { text: "State" }),
          el("th", { class: "num", text: "For" }))), agentsList)),
      updated);
  }

  function render(s) {
    document.getElementById("center").textContent = `Wallboard · ${s.center}`;
    tiles.replaceChildren(...STATES.map((st) => el("div", { class: "tile", "data-state": st },
      el("div", { class: "n", "data-testid": `agents-${st}`, text: s.agents_by_state[st] || 0 }),
      el("div", { class: "muted", text: st.replace("_", "-") }))));
    body.replaceChildren(...s.queues.map((q) => {
      const sl = q.service_level;
      const ok = sl === null || sl >= q.service_level_goal;
      return el("tr", { "data-queue": q.queue },
        el("td", { text: q.name || q.queue }), el("td", { text: q.channel }),
        el("td", { class: "num", "data-field": "waiting", text: q.waiting }),
        el("td", { class: "num", "data-field": "oldest", text: q.waiting ? fmtSeconds(q.oldest_wait_seconds) : "–" }),
        el("td", { class: "num", "data-field": "offered", text: q.offered }),
        el("td", { class: "num", "data-field": "answered", text: q.answered }),
        el("td", { class: "num", "data-field": "abandoned", text: q.abandoned }),
        el("td", { class: `num ${ok ? "sl-ok" : "sl-bad"}`, "data-field": "sl", text: fmtPercent(sl) }),
        el("td", { class: "num", text: `${fmtPercent(q.service_level_goal)} in ${q.answer_threshold_seconds}s` }),
        el("td", { class: "num", text: fmtSeconds(q.asa_seconds) }),
        el("td", { class: "num", "data-field": "transfers", text: `${q.transfers_in}/${q.transfers_out}` }),
        el("td", { class: "num", "data-field": "callbacks", text: q.channel === "voice" ? `${q.callbacks_due}/${q.callbacks_scheduled}` : "–" }),
        el("td", { class: "num", "data-field": "callbacks-oldest", text: q.callbacks_due + q.callbacks_scheduled ? fmtSeconds(q.callbacks_oldest_seconds) : "–" }));
    }));
    queues = s.queues;
    agentsList.replaceChildren(...s.agents.map((a) => el("tr", { "data-agent": a.agent },
      el("td", { text: a.name || a.agent }),
      el("td", {}, el("span", { class: `state-badge state-${a.state}`, text: a.reason ? `${a.state} (${a.reason})` : a.state })),
      el("td", { class: "num", text: fmtSeconds(a.since) }))));
    updated.textContent = `Updated ${new Date().toLocaleTimeString()}`;
  }

  async function act(fn) {
    error.textContent = "";
    try { await fn(); } catch (e) { error.textContent = e.message; }
    await Promise.all([loadWaiting(), loadCallbacks()]).catch(() => {});
  }

  async function loadWaiting() {
    const rows = await api("GET", "/api/supervisor/waiting");
    waitingList.replaceChildren(...rows.map((w) => {
      const prio = el("input", { type: "number", min: 0, max: 10000, value: w.priority, class: "narrow", "data-testid": "priority-input" });
      const move = el("select", { "data-testid": "move-queue" },
        ...queues.filter((q) => q.channel === w.channel && q.queue !== w.queue).map((q) => el("option", { value: q.queue, text: q.name || q.queue })));
      return el("tr", { "data-contact": w.contact_id },
        el("td", { text: w.queue }), el("td", { class: "num", "data-field": "place", text: w.place }), el("td", { text: w.tier }),
        el("td", { class: "num", text: fmtSeconds(w.wait_seconds) }),
        el("td", { class: "num" }, prio, el("button", { "data-testid": "priority-set",
          onclick: () => act(() => api("PUT", `/api/supervisor/contacts/${enc(w.contact_id)}/priority`, { priority: Number(prio.value) })) }, "Set")),
        el("td", {}, move, el("button", { "data-testid": "move-go",
          onclick: () => act(() => api("POST", `/api/supervisor/contacts/${enc(w.contact_id)}/move`, { queue: move.value })) }, "Move")));
    }));
  }

  async function loadCallbacks() {
    const rows = await api("GET", "/api/callbacks");
    callbackList.replaceChildren(...rows.map((c) => {
      const at = el("input", { type: "datetime-local", "data-testid": "reschedule-at" });
      const busy = c.status === "dialing" || c.status === "connected";
      return el("tr", { "data-callback": c.id },
        el("td", { text: c.queue }), el("td", { "data-field": "status", text: c.status }),
        el("td", { text: new Date(c.due * 1000).toLocaleString() }), el("td", { class: "num", text: c.attempts }),
        el("td", {}, at,
          el("button", { disabled: busy, "data-testid": "reschedule", onclick: () => act(() =>
            api("POST", `/api/callbacks/${c.id}/reschedule`, { due_at: new Date(at.value || Date.now()).toISOString() })) }, "Reschedule"),
          el("button", { class: "danger", disabled: busy, "data-testid": "callback-cancel",
            onclick: () => act(() => api("POST", `/api/callbacks/${c.id}/cancel`)) }, "Cancel")));
    }));
  }

  async function main() {
    const me = await ensureLogin(root, "Supervisor log-in");
    if (me.role !== "supervisor" && me.role !== "admin") {
      root.replaceChildren(el("p", { class: "error", text: "The wallboard is for supervisors." }));
      return;
    }
    build();
    const conn = document.getElementById("conn");
    socket("/api/wallboard/ws", (f) => { if (f.type === "snapshot") render(f); },
      (st) => { conn.textContent = st === "open" ? "● live" : "○ reconnecting"; });
    const poll = () => Promise.all([loadWaiting(), loadCallbacks()]).catch((e) => { error.textContent = e.message; });
    poll();
    setInterval(poll, 2000);
  }

  main().catch((e) => { root.replaceChildren(el("p", { class: "error", text: e.message })); });
})();
