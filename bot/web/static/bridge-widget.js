/*
 * Bridge's embeddable chat widget: a floating launcher that talks to Rasa's socket.io channel.
 *
 * Embed it on any page with one script tag and one call:
 *
 *   <script src="https://chat.example.com/bridge-widget.js"></script>
 *   <script>BridgeWidget.init({ serverUrl: "https://bot.example.com" });</script>
 *
 * The script loads its stylesheet and the bundled socket.io client (vendor/socket.io.min.js,
 * from npm, copied by scripts/setup_web.sh) from where it was itself loaded: nothing comes
 * from a CDN. Options (all but serverUrl optional):
 *   serverUrl     the Rasa server (its `--cors` option must allow this page's origin)
 *   socketPath    socket.io path, default "/socket.io/"
 *   language      the page language sent as customData.language, default <html lang>
 *   title         the panel title
 *   open          start with the panel open (default false)
 *
 * Messages the server sends at any time (an agent's reply) are shown; buttons send their
 * payload; links are made clickable; text is only ever inserted as text, never as HTML; each
 * message is laid out in its own direction (Arabic right to left). The session id and the
 * messages are kept in localStorage, so a reload continues the same conversation, and the
 * socket.io client reconnects by itself after the server restarts.
 */
(function () {
  "use strict";

  var SCRIPT_URL = document.currentScript ? document.currentScript.src : "";
  var BASE_URL = SCRIPT_URL.replace(/[^/]*$/, "");
  var MAX_MESSAGE_CHARS = 2000;
  var MAX_STORED_MESSAGES = 200;
  var LINK = /\bhttps?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]]/g;
  var RTL_LANGUAGES = ["ar", "fa", "he", "ur"];

  function loadScript(url) {
    return new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = url;
      script.onload = resolve;
      script.onerror = function () { reject(new Error("could not load " + url + ": run scripts/setup_web.sh")); };
      document.head.appendChild(script);
    });
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /* Appends `text` to `parent` as text nodes and <a> elements for http(s) links. */
  function appendWithLinks(parent, text) {
    var last = 0;
    String(text).replace(LINK, function (url, offset) {
      parent.appendChild(document.createTextNode(text.slice(last, offset)));
      var link = element("a", null, url);
      link.href = url;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      parent.appendChild(link);
      last = offset + url.length;
      return url;
    });
    parent.appendChild(document.createTextNode(text.slice(last)));
  }

  /* A speech bubble drawn as SVG: no emoji font or image file needed. */
  function chatIcon() {
    var svg = "http://www.w3.org/2000/svg";
    var icon = document.createElementNS(svg, "svg");
    icon.setAttribute("viewBox", "0 0 24 24");
    icon.setAttribute("width", "28");
    icon.setAttribute("height", "28");
    icon.setAttribute("aria-hidden", "true");
    var bubble = document.createElementNS(svg, "path");
    bubble.setAttribute("d", "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z");
    bubble.setAttribute("fill", "currentColor");
    icon.appendChild(bubble);
    return icon;
  }

  function Widget(options) {
    if (!options || !options.serverUrl) throw new Error('BridgeWidget.init needs { serverUrl: "https://your-rasa-server" }');
    this.serverUrl = options.serverUrl.replace(/\/$/, "");
    this.socketPath = options.socketPath || "/socket.io/";
    this.language = (options.language || document.documentElement.lang || "").split("-")[0].toLowerCase();
    this.storageKey = "bridge-widget:" + this.serverUrl;
    var saved = {};
    try { saved = JSON.parse(localStorage.getItem(this.storageKey) || "{}"); } catch (ignored) { saved = {}; }
    this.sessionId = saved.sessionId || null;
    this.messages = saved.messages || [];
    this.build(options);
    this.messages.forEach(this.render, this);
    if (options.open || saved.open) this.toggle(true);
  }

  Widget.prototype.save = function () {
    localStorage.setItem(this.storageKey, JSON.stringify({
      sessionId: this.sessionId, messages: this.messages.slice(-MAX_STORED_MESSAGES), open: !this.panel.hidden,
    }));
  };

  Widget.prototype.build = function (options) {
    var root = element("div", "bridge-widget");
    if (RTL_LANGUAGES.indexOf(this.language) >= 0) root.dir = "rtl";
    this.launcher = element("button", "bridge-launcher");
    this.launcher.appendChild(chatIcon());
    this.launcher.type = "button";
    this.launcher.setAttribute("aria-label", "Open the support chat");
    this.panel = element("section", "bridge-panel");
    this.panel.hidden = true;
    this.panel.setAttribute("aria-label", "Support chat");
    this.panel.appendChild(element("div", "bridge-title", options.title || "Support"));
    this.status = element("div", "bridge-status", "Connecting…");
    this.panel.appendChild(this.status);
    this.log = element("ol", "bridge-log");
    this.log.setAttribute("aria-live", "polite");
    this.panel.appendChild(this.log);
    var form = element("form", "bridge-form");
    this.input = element("input");
    this.input.type = "text";
    this.input.maxLength = MAX_MESSAGE_CHARS;
    this.input.autocomplete = "off";
    this.input.dir = "auto";
    this.input.setAttribute("aria-label", "Your message");
    this.input.placeholder = "Type your message…";
    var send = element("button", "bridge-send", "Send");
    send.type = "submit";
    form.appendChild(this.input);
    form.appendChild(send);
    this.panel.appendChild(form);
    root.appendChild(this.panel);
    root.appendChild(this.launcher);
    document.body.appendChild(root);

    var widget = this;
    this.launcher.addEventListener("click", function () { widget.toggle(widget.panel.hidden); });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = widget.input.value.trim();
      if (!text) return;
      widget.input.value = "";
      widget.sendText(text, text);
    });
  };

  Widget.prototype.toggle = function (open) {
    this.panel.hidden = !open;
    this.launcher.setAttribute("aria-expanded", String(open));
    if (open) this.input.focus();
    this.save();
  };

  Widget.prototype.connect = function () {
    var widget = this;
    // Reconnection with back-off is socket.io-client's default; each new connection asks
    // for the same session again so the server puts it back into the conversation's room.
    this.socket = window.io(this.serverUrl, { path: this.socketPath, transports: ["websocket", "polling"] });
    this.socket.on("connect", function () {
      widget.socket.emit("session_request", { session_id: widget.sessionId });
    });
    this.socket.on("session_confirm", function (confirmed) {
      var id = confirmed && typeof confirmed === "object" ? confirmed.session_id : confirmed;
      widget.sessionId = id;
      widget.save();
      widget.setStatus("");
    });
    this.socket.on("disconnect", function () { widget.setStatus("Reconnecting…"); });
    this.socket.on("connect_error", function () { widget.setStatus("Reconnecting…"); });
    this.socket.on("bot_uttered", function (message) { widget.receive(message); });
  };

  Widget.prototype.setStatus = function (text) {
    this.status.textContent = text;
    this.status.hidden = !text;
  };

  Widget.prototype.sendText = function (shown, payload) {
    this.add({ from: "user", text: shown });
    var data = { message: payload, session_id: this.sessionId };
    if (this.language) data.customData = { language: this.language };
    this.socket.emit("user_uttered", data);
  };

  Widget.prototype.receive = function (message) {
    var buttons = (message.quick_replies || message.buttons || []).map(function (button) {
      return { title: String(button.title || button.payload || ""), payload: String(button.payload || button.title || ""),
               url: button.url || null };
    });
    var text = message.text || (message.attachment && message.attachment.payload && message.attachment.payload.src) || "";
    if (!text && message.image) text = message.image;
    if (!text && !buttons.length) return;
    this.add({ from: "bot", text: text, buttons: buttons });
  };

  Widget.prototype.add = function (message) {
    this.messages.push(message);
    this.render(message);
    this.save();
  };

  Widget.prototype.render = function (message) {
    var item = element("li", "bridge-message bridge-" + message.from);
    var body = element("div", "bridge-text");
    body.dir = "auto";
    appendWithLinks(body, message.text || "");
    item.appendChild(body);
    var widget = this;
    if (message.buttons && message.buttons.length) {
      var row = element("div", "bridge-buttons");
      message.buttons.forEach(function (button) {
        var choice;
        if (button.url && /^https?:/.test(button.url)) {
          choice = element("a", "bridge-button", button.title);
          choice.href = button.url;
          choice.target = "_blank";
          choice.rel = "noopener noreferrer";
        } else {
          choice = element("button", "bridge-button", button.title);
          choice.type = "button";
          choice.dir = "auto";
          choice.addEventListener("click", function () {
            row.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
            widget.sendText(button.title, button.payload);
          });
        }
        row.appendChild(choice);
      });
      item.appendChild(row);
    }
    this.log.appendChild(item);
    this.log.scrollTop = this.log.scrollHeight;
  };

  window.BridgeWidget = {
    /* Adds the launcher to the page and connects; returns a Promise of the widget. */
    init: function (options) {
      var stylesheet = document.createElement("link");
      stylesheet.rel = "stylesheet";
      stylesheet.href = BASE_URL + "bridge-widget.css";
      document.head.appendChild(stylesheet);
      var ready = window.io ? Promise.resolve() : loadScript(BASE_URL + "vendor/socket.io.min.js");
      return ready.then(function () {
        var widget = new Widget(options);
        widget.connect();
        window.BridgeWidget.instance = widget;
        return widget;
      });
    },
  };
})();
