// The console's hand-off pages: the queue and the agent's conversation view. Both poll the
// console's JSON API, so new customers and new messages appear without a reload, whichever
// console process answers. Text is always inserted as text, never as HTML.
(function () {
  "use strict";
  const POLL_MS = 1500;
  const csrf = () => document.querySelector('meta[name="csrf-token"]').content;

  async function call(method, url, body) {
    const answer = await fetch(url, {
      method: method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let data = {};
    try { data = await answer.json(); } catch (e) { data = { error: "The console answered HTTP " + answer.status }; }
    return { status: answer.status, data: data };
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function minutes(seconds) {
    const m = Math.floor(seconds / 60), s = seconds % 60;
    return m + " min " + String(s).padStart(2, "0") + " s";
  }

  function queue(table, errorBox) {
    const body = table.querySelector("tbody");
    async function refresh() {
      const { status, data } = await call("GET", "/api/handoffs");
      if (status !== 200) { errorBox.textContent = data.error || ""; return; }
      body.replaceChildren();
      if (!data.tickets.length) {
        const row = el("tr"); const cell = el("td", "", "Nobody is waiting."); cell.colSpan = 8; row.append(cell); body.append(row);
      }
      for (const t of data.tickets) {
        const row = el("tr", "ticket"); row.dataset.ticket = t.ticket_id;
        row.append(el("td", "", "#" + t.ticket_id), el("td", "language", t.language || "?"), el("td", "channel", t.channel || "?"),
          el("td", "waiting", minutes(t.waiting_seconds)), el("td", "reason", t.reason), el("td", "", t.last_message || ""));
        const state = el("td", "status", t.status === "claimed" ? "claimed by " + t.agent_email : "waiting");
        if (!t.translated_for_you) state.append(el("span", "flag warn", "no translation for you"));
        const actions = el("td");
        if (t.status === "waiting") {
          const claim = el("button", "claim", "Claim");
          claim.onclick = async () => {
            const { status, data } = await call("POST", "/api/handoffs/" + t.ticket_id + "/claim");
            if (status === 201) { window.location = "/handoffs/" + t.ticket_id; } else { errorBox.textContent = data.error; refresh(); }
          };
          actions.append(claim);
        } else {
          const open = el("a", "open", "Open"); open.href = "/handoffs/" + t.ticket_id; actions.append(open);
        }
        row.append(state, actions);
        body.append(row);
      }
    }
    refresh();
    setInterval(refresh, POLL_MS);
  }

  function conversation(ticketId, list, form, warning) {
    let after = 0;
    const error = form.querySelector(".error");
    const untranslated = form.querySelector(".send-untranslated");

    function show(m) {
      const turn = el("div", "turn " + (m.kind === "customer" ? "customer" : "bot") + " " + m.kind);
      turn.id = "event-" + m.event_id;
      if (m.kind === "customer") {
        turn.append(el("div", "text original", m.text));
        if (m.for_agent) turn.append(el("div", "source for-agent", m.for_agent.text));
        turn.append(el("div", "meta", "customer · " + (m.language || "?") + (m.for_agent ? " · translated for you (" + m.for_agent.route + ")" : " · no translation for you")));
      } else {
        turn.append(el("div", "text delivered", m.text));
        if (m.for_agent) turn.append(el("div", "source for-agent", m.for_agent.text));
        else if (m.source_text && m.source_text !== m.text) turn.append(el("div", "source", m.source_text));
        const forYou = !m.for_agent ? "" : m.for_agent.route === "source" ? " · for you: its source text" : " · translated for you (" + m.for_agent.route + ")";
        turn.append(el("div", "meta", (m.kind === "agent" ? "agent" : "bot") + " · sent in " + (m.language || "?") + " · route " + m.route + forYou));
      }
      list.append(turn);
    }

    async function refresh() {
      const { status, data } = await call("GET", "/api/handoffs/" + ticketId + "/messages?after=" + after);
      if (status !== 200) { error.textContent = data.error || ""; return; }
      for (const m of data.messages) { show(m); after = Math.max(after, m.event_id); }
      warning.hidden = data.translated_for_customer;
      warning.textContent = data.translated_for_customer ? "" :
        "No translation from " + data.agent_language + " to " + data.ticket.language + ": your messages reach the customer as you write them, with a short notice in their language.";
      const open = data.ticket.status === "claimed";
      for (const button of form.querySelectorAll("button")) button.disabled = !open;
    }

    async function send(sendUntranslated) {
      const text = form.elements.text.value;
      const { status, data } = await call("POST", "/api/handoffs/" + ticketId + "/messages", { text: text, send_untranslated: sendUntranslated });
      if (status === 409 && data.confirm) { error.textContent = data.confirm; untranslated.hidden = false; return; }
      if (status !== 201) { error.textContent = data.error || ""; return; }
      error.textContent = ""; untranslated.hidden = true; form.elements.text.value = "";
      refresh();
    }

    form.addEventListener("submit", (event) => { event.preventDefault(); send(false); });
    untranslated.onclick = () => send(true);
    for (const [selector, close] of [[".hand-back", false], [".close-ticket", true]]) {
      form.querySelector(selector).onclick = async () => {
        const { status, data } = await call("POST", "/api/handoffs/" + ticketId + "/hand-back", { close: close });
        error.textContent = status === 200 ? "" : (data.error || "");
        refresh();
      };
    }
    refresh();
    setInterval(refresh, POLL_MS);
  }

  // A conversation page's "Take over": the bot stops answering and the agent holds the ticket.
  function takeOver(button, errorBox) {
    button.onclick = async () => {
      const { status, data } = await call("POST", "/api/handoffs/take-over", { sender_id: button.dataset.sender });
      if (status === 201) { window.location = "/handoffs/" + data.ticket_id; } else { errorBox.textContent = data.error || data.confirm || ""; }
    };
  }

  window.BridgeHandoff = { queue: queue, conversation: conversation, takeOver: takeOver };
})();
