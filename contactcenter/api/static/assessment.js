// Supervisors' per-agent assessment of a day of the center (GET /api/supervisor/agents/assessment):
// one table of the agents for the day, or a table per agent of its intervals. Sums and means
// only. Any column sorts: its header's button (twice: the other way), or "Sort by" (on a
// phone, where a row becomes a block and the headers are hidden).
"use strict";

(() => {
  const { el, api, fmtSeconds, fmtPercent, ensureLogin } = cc;
  const $ = (id) => document.getElementById(id);
  const gate = $("gate");
  const board = $("board");
  const tables = $("tables");

  const fixed = (x, digits) => (x === null ? "–" : x.toFixed(digits));
  // Each column once: its header, its cell and the value it sorts by.
  const COLUMNS = [
    { field: "handled", label: "Handled", value: (p) => p.handled },
    { field: "aht", label: "AHT", value: (p) => p.aht_seconds, show: fmtSeconds },
    { field: "talk", label: "Talk", value: (p) => p.talk_seconds, show: fmtSeconds },
    { field: "acw", label: "ACW", value: (p) => p.acw_seconds, show: fmtSeconds },
    { field: "occupancy", label: "Occupancy", value: (p) => p.occupancy, show: fmtPercent },
    { field: "csat", label: "CSAT (1-5)", value: (p) => p.csat_average, show: (x) => fixed(x, 1) },
    { field: "answers", label: "Survey answers", value: (p) => p.csat_answers },
    { field: "fcr", label: "FCR", value: (p) => p.fcr, show: fmtPercent },
    { field: "first", label: "First contacts", value: (p) => p.first_contacts },
    { field: "transfers", label: "Transfers", value: (p) => p.transfers },
    { field: "no_answers", label: "No-answers", value: (p) => p.no_answers },
    { field: "queues", label: "Queues", value: (p) => queues(p), text: true },
  ];
  const byField = Object.fromEntries(COLUMNS.map((c) => [c.field, c]));
  const sort = { field: "name", descending: false };
  let shown = null; // the last answer, re-drawn when the order changes

  function queues(p) {
    return p.queues.map((q) => (p.queues.length > 1 ? `${q.name} ${q.handled}` : q.name)).join(", ");
  }

  function time(iso) {
    return iso.slice(11, 16); // HH:MM of the center's local time
  }

  // rows: [key, first cell's text, the API's period]
  function ordered(rows) {
    const value = (row) => (sort.field === "name" ? row[1] : byField[sort.field].value(row[2]));
    const sign = sort.descending ? -1 : 1;
    return [...rows].sort((a, b) => {
      const x = value(a), y = value(b);
      if (x === null || y === null) return (x === null) - (y === null); // none last
      return (x < y ? -1 : x > y ? 1 : 0) * sign;
    });
  }

  function header(first) {
    const cell = (field, label, cls) => {
      const on = sort.field === field;
      return el("th", { scope: "col", class: cls, "aria-sort": on ? (sort.descending ? "descending" : "ascending") : null },
        el("button", { type: "button", class: "sort", "data-sort": field,
          onclick: (ev) => sortBy(field, on ? !sort.descending : field !== "name" && !byField[field].text,
            ev.currentTarget.closest("table").dataset.testid) },
          label, on ? (sort.descending ? " ▼" : " ▲") : ""));
    };
    return el("thead", {}, el("tr", {}, cell("name", first),
      ...COLUMNS.map((c) => cell(c.field, c.label, c.text ? null : "num"))));
  }

  function table(testid, first, rows, empty) {
    const body = rows.length
      ? ordered(rows).map(([key, name, p]) => el("tr", { "data-key": key },
        el("th", { scope: "row", "data-label": first }, name),
        ...COLUMNS.map((c) => el("td", { class: c.text ? null : "num", "data-label": c.label, "data-field": c.field },
          c.show ? c.show(c.value(p)) : c.value(p)))))
      : [el("tr", {}, el("td", { colspan: COLUMNS.length + 1, class: "muted" }, empty))];
    return el("div", { class: "table-scroll" },
      el("table", { class: "stackable", "data-testid": testid }, header(first), el("tbody", {}, ...body)));
  }

  function draw() {
    if (shown === null) return;
    const { by, agents } = shown;
    if (by === "day") {
      tables.replaceChildren(el("section", { class: "card", "aria-labelledby": "h-agents" },
        el("h2", { id: "h-agents" }, `Agents on ${shown.date}`),
        table("assessment-agents", "Agent", agents.map((a) => [a.agent_id, a.name, a.periods[0]]),
          "Nobody worked this day.")));
      return;
    }
    tables.replaceChildren(...(agents.length
      ? agents.map((a) => el("section", { class: "card", "aria-labelledby": `h-${a.agent_id}`, "data-agent": a.agent_id },
        el("h2", { id: `h-${a.agent_id}` }, `${a.name}: ${shown.interval_minutes}-minute intervals`),
        table(`assessment-intervals-${a.agent_id}`, "Interval", a.periods.map((p) => [p.start, time(p.start), p]), "")))
      : [el("section", { class: "card" }, el("p", { class: "muted", "data-testid": "assessment-empty" }, "Nobody worked this day."))]));
  }

  // `from`: the table whose header was used (its button keeps the focus after the re-draw)
  function sortBy(field, descending, from) {
    sort.field = field;
    sort.descending = descending;
    $("sort").value = `${field}:${descending ? "desc" : "asc"}`;
    draw();
    if (from) tables.querySelector(`[data-testid="${from}"] button[data-sort="${field}"]`).focus();
  }

  async function show() {
    $("error").textContent = "";
    const query = new URLSearchParams({ by: $("by").value });
    if ($("date").value) query.set("date", $("date").value);
    if ($("agent").value) query.set("agent", $("agent").value);
    try {
      shown = await api("GET", `/api/supervisor/agents/assessment?${query}`);
      $("date").value = shown.date;
      draw();
    } catch (e) {
      $("error").textContent = e.message;
    }
  }

  $("sort").replaceChildren(
    el("option", { value: "name:asc" }, "Agent or interval"),
    ...COLUMNS.filter((c) => !c.text).flatMap((c) => [
      el("option", { value: `${c.field}:desc` }, `${c.label}, highest first`),
      el("option", { value: `${c.field}:asc` }, `${c.label}, lowest first`),
    ]));
  $("sort").addEventListener("change", () => {
    const [field, way] = $("sort").value.split(":");
    sortBy(field, way === "desc");
  });
  $("pick").addEventListener("submit", (ev) => { ev.preventDefault(); show(); });

  ensureLogin(gate, "Supervisor login").then(async () => {
    let agents;
    try {
      agents = await api("GET", "/api/supervisor/agents");
    } catch (e) {
      gate.replaceChildren(el("div", { class: "card refusal", role: "alert", "data-testid": "assessment-refused" },
        el("h2", {}, "Not allowed"), el("p", {}, e.message)));
      return;
    }
    $("agent").append(...agents.map((a) => el("option", { value: a.agent }, a.name)));
    const asked = new URLSearchParams(location.search);
    if (asked.get("date")) $("date").value = asked.get("date");
    gate.hidden = true;
    board.hidden = false;
    show();
  });
})();
