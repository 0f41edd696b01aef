// Supervisors' quality page: CSAT (survey scores 1-5) per queue and per agent for a day of the
// center, from GET /api/supervisor/csat. Scores only: no customer data, no comments.
"use strict";

(() => {
  const { el, api, fmtPercent, ensureLogin } = cc;
  const $ = (id) => document.getElementById(id);
  const gate = $("gate");
  const board = $("board");

  function cells(name, row, key) {
    const avg = row.average === null ? "–" : row.average.toFixed(1);
    return el("tr", { "data-key": key },
      el("th", { scope: "row", "data-label": name }, name),
      el("td", { class: "num", "data-label": "Answers", "data-field": "answers" }, row.answers),
      el("td", { class: "num", "data-label": "Average (1-5)", "data-field": "average" }, avg),
      el("td", { class: "num", "data-label": "Satisfied (4-5)", "data-field": "satisfied" },
        fmtPercent(row.satisfied)));
  }

  function fill(testid, rows) {
    const body = document.querySelector(`[data-testid="${testid}"] tbody`);
    body.replaceChildren(...(rows.length ? rows
      : [el("tr", {}, el("td", { colspan: 4, class: "muted" }, "No answers this day."))]));
  }

  async function show(day) {
    $("error").textContent = "";
    try {
      const csat = await api("GET", `/api/supervisor/csat${day ? `?day=${encodeURIComponent(day)}` : ""}`);
      $("day").value = csat.day;
      fill("csat-queues", csat.queues.map((q) => cells(q.name || q.queue, q, q.queue)));
      fill("csat-agents", csat.agents.map((a) => cells(a.name, a, a.agent_id)));
    } catch (e) {
      $("error").textContent = e.message;
    }
  }

  $("pick").addEventListener("submit", (ev) => { ev.preventDefault(); show($("day").value); });

  ensureLogin(gate, "Supervisor login").then(async () => {
    try {
      await api("GET", "/api/supervisor/csat");
    } catch (e) {
      gate.replaceChildren(el("div", { class: "card refusal", role: "alert", "data-testid": "quality-refused" },
        el("h2", {}, "Not allowed"), el("p", {}, e.message)));
      return;
    }
    gate.hidden = true;
    board.hidden = false;
    show(null);
  });
})();
