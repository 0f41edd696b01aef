// The quality page's complaint cases section: per category, the cases being worked on, those
// past their severity's targets and those escalated (GET /api/supervisor/cases/summary: counts
// only, no case or customer), loaded when the page's board shows (after the log-in) and every
// minute, since cases turn overdue with time alone.
"use strict";

(() => {
  const { el, api } = cc;
  const board = document.getElementById("board");
  const body = el("tbody", { "data-testid": "cases-summary-rows" });
  const error = el("p", { class: "error", role: "alert" });
  const section = el("section", { class: "card", "aria-labelledby": "h-cases-summary", "data-testid": "cases-summary" },
    el("h2", { id: "h-cases-summary" }, "Complaint cases per category"), error,
    el("table", { class: "stackable" }, el("thead", {}, el("tr", {}, ...["Category", "Open", "Overdue", "Escalated"].map((h, i) =>
      el("th", { class: i ? "num" : null, scope: "col" }, h)))), body));
  let timer = null;

  async function load() {
    try {
      const rows = await api("GET", "/api/supervisor/cases/summary");
      error.textContent = "";
      body.replaceChildren(...rows.map((r) => el("tr", { "data-category": r.category },
        el("th", { scope: "row", text: r.name }),
        ...[["Open", r.open], ["Overdue", r.overdue], ["Escalated", r.escalated]].map(([label, n]) =>
          el("td", { class: n && label !== "Open" ? "num error" : "num", "data-label": label, text: n })))));
    } catch (e) {
      error.textContent = e.message;
    }
  }

  function start() {
    if (board.hidden || timer !== null) return;
    board.append(section);
    load();
    timer = setInterval(load, 60000);
  }

  new MutationObserver(start).observe(board, { attributes: true, attributeFilter: ["hidden"] });
  start();
})();
