// Supervisors' quality page for a day of the center: CSAT (survey scores 1-5) per queue and per
// agent (GET /api/supervisor/csat) and first-contact resolution of the day's first contacts
// (GET /api/supervisor/fcr). Counts only: no customer data, no comments.
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

  function fill(testid, rows, empty = "No answers this day.") {
    const body = document.querySelector(`[data-testid="${testid}"] tbody`);
    body.replaceChildren(...(rows.length ? rows
      : [el("tr", {}, el("td", { colspan: 5, class: "muted" }, empty))]));
  }

  function fcrCells(name, row, key, open) {
    const tr = el("tr", { "data-key": key },
      el("th", { scope: "row", "data-label": name }, name),
      el("td", { class: "num", "data-label": "First contacts", "data-field": "first" }, row.first_contacts),
      el("td", { class: "num", "data-label": "Resolved", "data-field": "resolved" }, row.resolved),
      el("td", { class: "num", "data-label": "FCR", "data-field": "fcr" }, fmtPercent(row.fcr)));
    if (open !== undefined) tr.append(el("td", { class: "num", "data-label": "Window open", "data-field": "open" }, open));
    return tr;
  }

  async function show(day) {
    $("error").textContent = "";
    try {
      const csat = await api("GET", `/api/supervisor/csat${day ? `?day=${encodeURIComponent(day)}` : ""}`);
      $("day").value = csat.day;
      fill("csat-queues", csat.queues.map((q) => cells(q.name || q.queue, q, q.queue)));
      fill("csat-agents", csat.agents.map((a) => cells(a.name, a, a.agent_id)));
      const fcr = await api("GET", `/api/supervisor/fcr?from=${encodeURIComponent(csat.day)}`);
      $("fcr-rule").textContent = `Verified customers only. A first contact is resolved when an agent handled it and the customer did not contact the same queue again within ${fcr.window_days} days; "window open": it may still be repeated.`;
      fill("fcr-queues", fcr.queues.map((q) => fcrCells(q.name || q.queue, q, q.queue, q.provisional)), "No first contacts this day.");
      fill("fcr-agents", fcr.agents.map((a) => fcrCells(a.name, a, a.agent_id)), "No first contacts this day.");
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
