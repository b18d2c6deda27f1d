// The offer form's Backtest button: posts the form as it stands, with the period, to the
// backtest endpoint, and shows the answer's sentence and its deliveries per day (uPlot).
// Nothing is saved.
(function () {
  "use strict";
  var form = document.getElementById("offer-form");
  var box = document.getElementById("backtest");
  if (!form || !box || !window.fetch) return;
  var button = document.getElementById("backtest-run");
  var summary = document.getElementById("backtest-summary");
  var problems = document.getElementById("backtest-problems");
  var chart = document.getElementById("backtest-chart");
  var plot = null;

  function draw(days) {
    if (plot) { plot.destroy(); plot = null; }
    if (!window.uPlot || days.length === 0) return;
    var xs = days.map(function (d) { return Date.parse(d.date + "T00:00:00Z") / 1000; });
    var ys = days.map(function (d) { return d.deliveries; });
    plot = new uPlot({
      width: Math.max(320, Math.min(chart.clientWidth || 640, 900)),
      height: 200,
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"); },
      series: [{}, { label: "deliveries per day", stroke: "#2a6f97", fill: "rgba(42,111,151,0.15)", width: 2 }],
      axes: [{}, { label: "deliveries" }]
    }, [xs, ys], chart);
  }

  function show(answer) {
    var reasons = [];
    Object.keys(answer.errors || {}).forEach(function (field) {
      answer.errors[field].forEach(function (r) { reasons.push(field + ": " + r); });
    });
    problems.textContent = reasons.join(" ");
    problems.hidden = reasons.length === 0;
    var b = answer.backtest;
    summary.hidden = !b;
    if (!b) { draw([]); return; }
    summary.textContent = b.summary;
    draw(b.per_day);
  }

  button.addEventListener("click", function () {
    var data = new URLSearchParams(new FormData(form));
    data.delete("action");
    if (box.getAttribute("data-offer-id")) data.set("offer_id", box.getAttribute("data-offer-id"));
    data.set("backtest_from", document.getElementById("backtest_from").value);
    data.set("backtest_to", document.getElementById("backtest_to").value);
    button.disabled = true;
    summary.hidden = false;
    summary.textContent = "Replaying…";
    fetch(box.getAttribute("data-backtest-url"), { method: "POST", body: data, credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        var type = r.headers.get("Content-Type") || "";
        if (type.indexOf("application/json") !== 0) throw new Error("status " + r.status);
        return r.json();
      })
      .then(show)
      .catch(function (e) {
        summary.hidden = true;
        problems.textContent = "The backtest could not be run (" + e.message + ").";
        problems.hidden = false;
      })
      .then(function () { button.disabled = false; });
  });
  box.setAttribute("data-ready", "1");
})();
