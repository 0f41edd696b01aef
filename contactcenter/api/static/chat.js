// The customer's chat widget: start a chat, then talk over the chat WebSocket.
//
// A site that knows who is logged in embeds /chat with the identity its backend signed in the
// URL's fragment (#customer_id=..&expires=..&kid=..&signature=..[&name=..]; a fragment never
// reaches a server's access log). It is taken out of the address at once, kept in memory only
// and sent with each chat this page starts; the server checks it. Without it, the customer is
// not verified (and with the site's verified_only policy, cannot start a chat).
"use strict";

(() => {
  const { el, api, socket, fmtSeconds, fmtTime } = cc;
  const $ = (id) => document.getElementById(id);
  const KEY = "cc-chat";
  let conn = null;
  let ended = false;
  let current = null;  // the chat this page talks in: { contact_id, token, topic }

  function signedIdentity() {
    const given = new URLSearchParams(location.hash.slice(1));
    if (location.hash) history.replaceState(null, "", location.pathname + location.search);
    const id = {
      customer_id: given.get("customer_id"),
      expires: Number(given.get("expires")),
      kid: given.get("kid"),
      signature: given.get("signature"),
    };
    const complete = id.customer_id && id.kid && id.signature && Number.isInteger(id.expires);
    return { identity: complete ? id : null, name: given.get("name") };
  }
  const { identity, name: givenName } = signedIdentity();
  if (givenName) $("name").value = givenName;
  $("signed-in").hidden = !identity;

  async function loadTopics() {  // with a chat menu, the menu may ask instead (value "")
    const { topics, menu } = await api("GET", "/api/chat/topics");
    const options = topics.map((t) => el("option", { value: t, text: t[0].toUpperCase() + t.slice(1) }));
    if (menu) options.unshift(el("option", { value: "", text: "Something else: ask me in the chat" }));
    $("topic").replaceChildren(...options);
    $("topic").required = !menu;
  }

  function addLine(sender, text, at) {
    const who = sender === "customer" ? "You" : sender === "agent" ? "Agent" : "";
    const li = el("li", { class: sender, "data-sender": sender });
    if (sender === "system") li.textContent = text;
    else {
      li.title = `${who}${at ? " · " + fmtTime(at) : ""}`;
      li.textContent = text;
    }
    $("transcript").append(li);
    $("transcript").scrollTop = $("transcript").scrollHeight;
  }

  function setStatus(text) { $("status").textContent = text; }

  function finish(by) {
    if (ended) return;
    ended = true;
    sessionStorage.removeItem(KEY);
    const why = by === "agent" ? "The agent ended the chat."
      : by === "callback" ? "We will call you back, keeping your place in the queue."
      : by === "center" ? "Sorry, we could not take your chat right now."
      : by === "menu" ? "This chat has ended." : "You ended the chat.";
    $("callback").hidden = true;
    setStatus(why + " Thank you!");
    addLine("system", "Chat ended");
    $("text").disabled = true;
    $("compose").querySelector("button").disabled = true;
    $("end").hidden = true;
    $("again").hidden = false;
    if (conn) conn.stop();
    if (by === "agent" || by === "customer") offerSurvey(current);
  }

  // After a chat an agent handled, the server may ask for a 1-5 score (once, for a while).
  async function offerSurvey(chat) {
    if (!chat) return;
    const path = `/api/chat/${encodeURIComponent(chat.contact_id)}/survey`;
    let survey;
    try {
      survey = await api("GET", `${path}?token=${encodeURIComponent(chat.token)}`);
    } catch (e) {
      return;  // nothing to ask (no agent took it, not surveyed, or answered already)
    }
    if (chat !== current) return;  // a new chat started meanwhile
    $("survey-question").textContent = survey.question;
    $("survey").reset();
    $("survey").hidden = false;
    $("survey").onsubmit = async (ev) => {
      ev.preventDefault();
      $("survey-error").textContent = "";
      const body = { token: chat.token, score: Number(new FormData($("survey")).get("score")) };
      const comment = $("survey-comment").value.trim();
      if (comment) body.comment = comment;
      try {
        await api("POST", path, body);
      } catch (e) {
        if (e.code !== "already_answered") { $("survey-error").textContent = e.message; return; }
      }
      $("survey").hidden = true;
      $("survey-thanks").hidden = false;
      $("survey-thanks").focus();
    };
    $("survey").querySelector("input[name=score]").focus();
  }

  function onFrame(f) {
    switch (f.type) {
      case "status":
        $("callback-open").hidden = f.state !== "waiting";
        if (f.state === "waiting") {
          const wait = f.expected_wait_seconds != null ? ` · expected wait about ${fmtSeconds(f.expected_wait_seconds)}` : "";
          setStatus(`You are number ${f.position} in the queue${wait}.`);
        } else if (f.state === "resuming") {
          setStatus(`${f.agent || "Your agent"} will be back with you in a moment.`);
        } else if (f.state === "menu") {
          setStatus("Type the number or the name of your choice.");
        } else if (f.state === "offered") {
          setStatus("An agent is about to join…");
        } else if (f.agent) {
          setStatus(`You are chatting with ${f.agent}.`);
        }
        break;
      case "history":
        $("transcript").replaceChildren();
        for (const m of f.messages) addLine(m.sender, m.text, m.at);
        break;
      case "agent_joined":
        setStatus(`You are chatting with ${f.name}.`);
        addLine("system", `${f.name} joined the chat`);
        $("callback-open").hidden = true;
        $("callback").hidden = true;
        break;
      case "transferred":
        addLine("system", "You are being transferred; you keep your place.");
        break;
      case "hold":
        addLine("system", "Your agent is asking a colleague; please hold on.");
        break;
      case "resume":
        addLine("system", "Your agent is back.");
        break;
      case "callback_offer":
        addLine("system", "Rather not wait? We can call you back, keeping your place.");
        $("callback-open").hidden = false;
        break;
      case "message":
        addLine(f.sender, f.text, f.at);
        break;
      case "ended":
        finish(f.by);
        break;
      case "error":
        $("chat-error").textContent = f.error.message;
        break;
    }
  }

  function connect(chat) {
    current = chat;
    $("start").hidden = true;
    $("chat").hidden = false;
    $("chat-title").textContent = chat.topic ? `Chat about ${chat.topic}` : "Chat with us";
    setStatus("Connecting…");
    conn = socket(
      () => `/api/chat/${encodeURIComponent(chat.contact_id)}/ws?token=${encodeURIComponent(chat.token)}`,
      onFrame,
      (state) => { if (state === "closed" && !ended) setStatus("Reconnecting…"); },
    );
  }

  $("start-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    $("start-error").textContent = "";
    const body = { name: $("name").value.trim() };
    if ($("topic").value) body.topic = $("topic").value;
    if (identity) body.identity = identity;
    try {
      const res = await api("POST", "/api/chat", body);
      const chat = { contact_id: res.contact_id, token: res.token, topic: body.topic };
      if (res.state === "ended") {  // the chat's menu ended it at once (e.g. closed)
        $("start").hidden = true;
        $("chat").hidden = false;
        for (const line of res.lines) addLine("system", line);
        finish("menu");
        return;
      }
      sessionStorage.setItem(KEY, JSON.stringify(chat));
      connect(chat);
    } catch (e) {
      $("start-error").textContent = e.code === "identity_invalid"
        ? "We could not confirm that you are signed in. Please open the chat again from your account page."
        : e.message;
    }
  });

  function startAgain() {  // a new chat on this page, with the identity it was opened with
    ended = false;
    conn = null;
    $("transcript").replaceChildren();
    for (const id of ["chat-error", "start-error", "status"]) $(id).textContent = "";
    $("text").disabled = false;
    $("compose").querySelector("button").disabled = false;
    $("end").hidden = false;
    $("again").hidden = true;
    $("callback").hidden = true;
    $("callback-open").hidden = true;
    $("survey").hidden = true;
    $("survey-thanks").hidden = true;
    current = null;
    $("chat").hidden = true;
    $("start").hidden = false;
  }

  $("compose").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const text = $("text").value;
    if (!text.trim() || !conn) return;
    $("chat-error").textContent = "";
    conn.send({ type: "message", text });
    $("text").value = "";
  });

  $("end").addEventListener("click", () => { if (conn) conn.send({ type: "end" }); });
  $("callback-open").addEventListener("click", () => { $("callback").hidden = false; $("callback-number").focus(); });
  $("callback").addEventListener("submit", (ev) => {
    ev.preventDefault();
    if (!conn) return;
    $("chat-error").textContent = "";
    const frame = { type: "callback", number: $("callback-number").value.replace(/[\s()\/-]/g, "") };
    const at = $("callback-at").value;  // local date and time, sent with its offset
    if (at) frame.at = new Date(at).toISOString();
    conn.send(frame);
  });
  $("again").addEventListener("click", startAgain);

  loadTopics().catch((e) => { $("start-error").textContent = e.message; });
  const saved = sessionStorage.getItem(KEY);
  if (saved) {
    try { connect(JSON.parse(saved)); } catch (e) { sessionStorage.removeItem(KEY); }
  }
})();
