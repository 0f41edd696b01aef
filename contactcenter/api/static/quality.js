// Supervisors' quality page for a day of the center: CSAT (survey scores 1-5) per queue and per
// agent (GET /api/supervisor/csat) and first-contact resolution of the day's first contacts
// (GET /api/supervisor/fcr). Counts only: no customer data, no comments.
"use strict";

(() => {
  const { el, api, fmtPercent, ensureLogin } = cc;
  const $ = (id) => document.getElementById(id);
  const gate = $("gate");
  const board = $("board");

  // Each table's columns, once: its header and its rows (with their labels on a phone, where
  // a row becomes a block) are built from them.
  const CSAT = [
    { field: "answers", label: "Answers", value: (r) => r.answers },
    { field: "average", label: "Average (1-5)",
      value: (r) => (r.average === null ? "–" : r.average.toFixed(1)) },
    { field: "satisfied", label: "Satisfied (4-5)", value: (r) => fmtPercent(r.satisfied) },
    { field: "unanswered", label: "Asked, no score", value: (r) => r.unanswered },
  ];
  const FCR = [
    { field: "first", label: "First contacts", value: (r) => r.first_contacts },
    { field: "resolved", label: "Resolved", value: (r) => r.resolved },
    { field: "fcr", label: "FCR", value: (r) => fmtPercent(r.fcr) },
  ];
  const TABLES = [
    { testid: "csat-queues", title: "CSAT per queue", first: "Queue", columns: CSAT,
      empty: "No answers this day." },
    { testid: "csat-agents", title: "CSAT per agent", first: "Agent", columns: CSAT,
      empty: "No answers this day." },
    { testid: "fcr-queues", title: "First-contact resolution per queue", first: "Queue",
      columns: [...FCR, { field: "open", label: "Window open", value: (r) => r.provisional }],
      empty: "No first contacts this day.", note: "fcr-rule" },
    { testid: "fcr-agents", title: "First-contact resolution per agent", first: "Agent",
      columns: FCR, empty: "No first contacts this day." },
  ];
  const byTestid = Object.fromEntries(TABLES.map((t) => [t.testid, t]));

  function card({ testid, title, first, columns, note }) {
    return el("section", { class: "card", "aria-labelledby": `h-${testid}` },
      el("h2", { id: `h-${testid}` }, title),
      note && el("p", { class: "muted small", id: note, "data-testid": note }),
      el("table", { class: "stackable", "data-testid": testid },
        el("thead", {}, el("tr", {}, el("th", { scope: "col" }, first),
          ...columns.map((c) => el("th", { scope: "col", class: "num" }, c.label)))),
        el("tbody")));
  }

  // rows: [name, key, the API's row] each
  function fill(testid, rows) {
    const { columns, empty } = byTestid[testid];
    const body = document.querySelector(`[data-testid="${testid}"] tbody`);
    body.replaceChildren(...(rows.length
      ? rows.map(([name, key, row]) => el("tr", { "data-key": key },
        el("th", { scope: "row", "data-label": name }, name),
        ...columns.map((c) => el("td", { class: "num", "data-label": c.label, "data-field": c.field },
          c.value(row)))))
      : [el("tr", {}, el("td", { colspan: columns.length + 1, class: "muted" }, empty))]));
  }

  async function show(day) {
    $("error").textContent = "";
    try {
      const csat = await api("GET", `/api/supervisor/csat${day ? `?day=${encodeURIComponent(day)}` : ""}`);
      $("day").value = csat.day;
      fill("csat-queues", csat.queues.map((q) => [q.name || q.queue, q.queue, q]));
      fill("csat-agents", csat.agents.map((a) => [a.name, a.agent_id, a]));
      const fcr = await api("GET", `/api/supervisor/fcr?from=${encodeURIComponent(csat.day)}`);
      $("fcr-rule").textContent = `Verified customers only. A first contact is resolved when an agent handled it and the customer did not contact the same queue again within ${fcr.window_days} days; "window open": it may still be repeated.`;
      fill("fcr-queues", fcr.queues.map((q) => [q.name || q.queue, q.queue, q]));
      fill("fcr-agents", fcr.agents.map((a) => [a.name, a.agent_id, a]));
    } catch (e) {
      $("error").textContent = e.message;
    }
  }

  $("pick").after(...TABLES.map(card));
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
