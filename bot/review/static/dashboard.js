// Draws the dashboard's charts with Chart.js from the JSON API (/api/dashboard), with the
// page's filters. Each chart keeps its canvas id, so tests and agents find it again.
(function () {
  "use strict";
  const script = document.currentScript;
  const palette = ["#2f6fd0", "#1e8a7a", "#d97706", "#b43f5c", "#6b5bd2", "#4b8f29", "#8a6d3b", "#3f7f9f", "#c2410c", "#64748b"];
  const percent = { ticks: { callback: (v) => `${v}%` }, min: 0, max: 100 };

  function draw(id, config) {
    const canvas = document.getElementById(id);
    config.options = Object.assign({ responsive: true, maintainAspectRatio: false, animation: false }, config.options || {});
    return new Chart(canvas, config);
  }

  function ranking(id, items, label, color) {
    if (!items.length) {
      const empty = document.createElement("p");
      empty.className = "notice";
      empty.textContent = "None in this period.";
      document.getElementById(id).replaceWith(empty);
      return;
    }
    draw(id, {
      type: "bar",
      data: { labels: items.map((i) => i.value), datasets: [{ label, data: items.map((i) => i.count), backgroundColor: color }] },
      options: { indexAxis: "y", plugins: { legend: { display: false } }, scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } },
    });
  }

  function toPercent(rates) {
    return rates.map((r) => (r === null ? null : Math.round(r * 1000) / 10));
  }

  function render(numbers) {
    draw("chart-conversations", {
      type: "bar",
      data: {
        labels: numbers.days,
        datasets: [
          { label: "conversations", data: numbers.conversations, backgroundColor: "#9cbcec" },
          { label: "contained (no hand-off)", data: numbers.contained, backgroundColor: "#1e8a7a" },
        ],
      },
      options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
    });
    draw("chart-rates", {
      type: "line",
      data: {
        labels: numbers.days,
        datasets: [
          { label: "containment", data: toPercent(numbers.containment_rate), borderColor: "#1e8a7a", backgroundColor: "#1e8a7a" },
          { label: "fallback", data: toPercent(numbers.fallback_rate), borderColor: "#d97706", backgroundColor: "#d97706" },
          { label: "hand-off", data: toPercent(numbers.handoff_rate), borderColor: "#b43f5c", backgroundColor: "#b43f5c" },
        ],
      },
      options: { spanGaps: true, scales: { y: percent } },
    });
    ranking("chart-intents", numbers.top_intents, "turns", "#2f6fd0");
    ranking("chart-kb", numbers.top_kb_answers, "answers", "#6b5bd2");
    ranking("chart-unsupported", numbers.unsupported_languages, "turns", "#c2410c");
    draw("chart-routes", {
      type: "bar",
      data: {
        labels: numbers.days,
        datasets: Object.entries(numbers.routes_per_day).map(([route, counts], n) => ({
          label: route, data: counts, backgroundColor: palette[n % palette.length],
        })),
      },
      options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } },
    });
    document.body.dataset.chartsReady = "true";
  }

  function fail(message) {
    const box = document.createElement("p");
    box.className = "error";
    box.setAttribute("role", "alert");
    box.textContent = message;
    document.querySelector("main").prepend(box);
  }

  if (typeof Chart === "undefined") {
    fail("Chart.js did not load: run `make web` to bundle it.");
    return;
  }
  fetch(script.dataset.api, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then((response) => response.json().then((body) => ({ ok: response.ok, body })))
    .then(({ ok, body }) => (ok ? render(body) : fail(body.error || "The dashboard's numbers could not be read.")))
    .catch((error) => fail(`The dashboard's numbers could not be read: ${error}`));
})();
