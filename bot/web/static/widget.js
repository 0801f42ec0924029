// Bridge chat widget: sends the customer's messages to the Rasa REST channel with the page
// language as a hint, and shows the replies. The conversation id survives page reloads.
(function () {
  "use strict";
  const log = document.getElementById("chat-log");
  const form = document.getElementById("chat-form");
  const input = document.getElementById("chat-input");
  const errorBox = document.getElementById("chat-error");
  const pageLanguage = document.getElementById("page-language");
  const MAX_LENGTH = 2000;

  const senderId = localStorage.getItem("bridge-sender-id") ||
    ("web-" + Math.random().toString(36).slice(2) + Date.now().toString(36));
  localStorage.setItem("bridge-sender-id", senderId);

  const browserLanguage = (navigator.language || "en").split("-")[0];
  if ([...pageLanguage.options].some((o) => o.value === browserLanguage)) {
    pageLanguage.value = browserLanguage;
  }
  document.documentElement.lang = pageLanguage.value;
  pageLanguage.addEventListener("change", () => { document.documentElement.lang = pageLanguage.value; });

  function show(text, who) {
    const item = document.createElement("li");
    item.className = who;
    item.textContent = text;  // never innerHTML: replies are text, not markup
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
  }

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = false;
  }

  const config = fetch("config.json").then((r) => r.json());

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) { return; }
    if (text.length > MAX_LENGTH) {
      showError(`Messages can be at most ${MAX_LENGTH} characters; yours has ${text.length}.`);
      return;
    }
    errorBox.hidden = true;
    show(text, "user");
    input.value = "";
    try {
      const { rasaUrl } = await config;
      const response = await fetch(`${rasaUrl}/webhooks/rest/webhook`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ sender: senderId, message: text,
                               metadata: { language: pageLanguage.value } }),
      });
      if (!response.ok) { throw new Error(`the server answered ${response.status}`); }
      const replies = await response.json();
      replies.filter((r) => r.text).forEach((r) => show(r.text, "bot"));
    } catch (err) {
      showError(`Your message could not be delivered (${err.message}). Please try again in a moment.`);
      input.value = text;
    }
  });
})();
