// The live wallboard: queues (service level against target, oldest waiting) and agents by
// state, pushed over the wallboard WebSocket.
"use strict";

(() => {
  const { el, socket, fmtSeconds, fmtPercent, ensureLogin } = cc;
  const root = document.getElementById("root");
  const STATES = ["available", "ringing", "busy", "wrap_up", "away", "offline"];
  let tiles, body, agentsList, updated;

  function build() {
    tiles = el("div", { class: "tiles", "data-testid": "agent-tiles" });
    body = el("tbody", { "data-testid": "queue-rows" });
    agentsList = el("tbody", { "data-testid": "agent-rows" });
    updated = el("p", { class: "muted", "data-testid": "wallboard-updated" });
    root.replaceChildren(
      el("section", { class: "card" }, el("h2", { text: "Agents" }), tiles),
      el("section", { class: "card" }, el("h2", { text: "Queues" }),
        el("table", {}, el("thead", {}, el("tr", {},
          el("th", { text: "Queue" }), el("th", { text: "Channel" }),
          el("th", { class: "num", text: "Waiting" }), el("th", { class: "num", text: "Oldest" }),
          el("th", { class: "num", text: "Offered" }), el("th", { class: "num", text: "Answered" }),
          el("th", { class: "num", text: "Abandoned" }), el("th", { class: "num", text: "Service level" }),
          el("th", { class: "num", text: "Target" }), el("th", { class: "num", text: "ASA" }))), body)),
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
        el("td", { class: "num", text: fmtSeconds(q.asa_seconds) }));
    }));
    agentsList.replaceChildren(...s.agents.map((a) => el("tr", { "data-agent": a.agent },
      el("td", { text: a.name || a.agent }),
      el("td", {}, el("span", { class: `state-badge state-${a.state}`, text: a.reason ? `${a.state} (${a.reason})` : a.state })),
      el("td", { class: "num", text: fmtSeconds(a.since) }))));
    updated.textContent = `Updated ${new Date().toLocaleTimeString()}`;
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
  }

  main().catch((e) => { root.replaceChildren(el("p", { class: "error", text: e.message })); });
})();
