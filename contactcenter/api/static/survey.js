// The survey page a closing e-mail links to: /survey#<contact id>.<token>. The fragment never
// reaches a server's log; it is taken out of the address at once. The server decides whether
// the contact takes an answer now (surveyed channel, an agent handled it, within the window,
// once) and says why not.
"use strict";

(() => {
  const { api } = cc;
  const $ = (id) => document.getElementById(id);
  const [cid, token] = location.hash.slice(1).split(".");
  if (location.hash) history.replaceState(null, "", location.pathname);
  const WHY = {
    already_answered: "This contact is rated already: thank you!",
    survey_closed: "The time to rate this contact is over.",
    contact_open: "You can rate it once it is closed.",
    no_survey: "There is nothing to rate here.",
    bad_token: "This link is not complete: please use the whole link from the mail.",
  };

  function refused(e) { return WHY[e.code] || e.message; }

  async function main() {
    if (!cid || !token) { $("survey-wait").hidden = true; $("survey-error").textContent = WHY.bad_token; return; }
    const path = `/api/surveys/${encodeURIComponent(cid)}`;
    let survey;
    try {
      survey = await api("GET", `${path}?token=${encodeURIComponent(token)}`);
    } catch (e) {
      $("survey-wait").hidden = true;
      $("survey-error").textContent = refused(e);
      return;
    }
    $("survey-wait").hidden = true;
    $("survey-question").textContent = survey.question;
    $("survey").hidden = false;
    $("survey").querySelector("input[name=score]").focus();
    $("survey").onsubmit = async (ev) => {
      ev.preventDefault();
      $("survey-error").textContent = "";
      const body = { token, score: Number(new FormData($("survey")).get("score")) };
      const comment = $("survey-comment").value.trim();
      if (comment) body.comment = comment;
      try {
        await api("POST", path, body);
      } catch (e) {
        if (e.code !== "already_answered") { $("survey-error").textContent = refused(e); return; }
      }
      $("survey").hidden = true;
      $("survey-thanks").hidden = false;
      $("survey-thanks").focus();
    };
  }

  main();
})();
