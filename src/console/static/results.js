// The results page's chart: deliveries, opens, redemptions and conversions per day (UTC),
// drawn by uPlot from the page's JSON block. The table under it has the same numbers.
(function () {
  "use strict";
  var el = document.getElementById("results-chart");
  var data = JSON.parse(document.getElementById("results-data").textContent);
  if (!el || !data || !window.uPlot) return;

  // Days as UTC midnights in seconds, uPlot's x values.
  var xs = data.days.map(function (d) {
    var p = d.split("-");
    return Date.UTC(+p[0], +p[1] - 1, +p[2]) / 1000;
  });
  var DAY = 86400;
  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  // "Jul 14" for a UTC midnight in seconds.
  function day(ts) {
    var d = new Date(ts * 1000);
    return MONTHS[d.getUTCMonth()] + " " + d.getUTCDate();
  }
  var most = Math.max.apply(null, [1].concat(data.deliveries, data.opens, data.redemptions, data.conversions));

  function size() {
    var w = Math.max(200, el.clientWidth);
    return { width: w, height: w < 500 ? 220 : 300 };
  }

  var line = function (label, color, extra) {
    return Object.assign({ label: label, stroke: color, width: 2, points: { size: 5, fill: color } }, extra || {});
  };
  var opts = Object.assign(size(), {
    tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"); },
    cursor: { drag: { x: false, y: false } },
    // Values under the cursor on a wide screen; a phone has no cursor, and the table has them.
    legend: { live: el.clientWidth >= 500 },
    scales: {
      x: { time: true },
      // Counts: from zero, to a little above the highest.
      y: { range: function () { return [0, Math.ceil(most * 1.15)]; } }
    },
    axes: [
      {
        stroke: "#69717d", grid: { stroke: "#eceef1" }, ticks: { stroke: "#eceef1" },
        // Whole days only: a tick per day, two, a week, a fortnight or four weeks apart.
        incrs: [1, 2, 7, 14, 28, 91].map(function (d) { return d * DAY; }),
        values: function (u, splits) { return splits.map(day); }
      },
      {
        stroke: "#69717d", grid: { stroke: "#eceef1" }, ticks: { stroke: "#eceef1" },
        incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000],
        values: function (u, splits) { return splits.map(function (v) { return String(v); }); },
        size: 44
      }
    ],
    series: [
      { label: "Day", value: function (u, ts) { return ts == null ? "--" : day(ts); } },
      line("Delivered", "#1f5fbf", { fill: "rgba(31, 95, 191, 0.08)" }),
      line("Opened", "#0f8a8a"),
      line("Redeemed", "#d9822b"),
      line("Converted", "#2e7d32", { dash: [6, 4] })
    ]
  });
  var plot = new uPlot(opts, [xs, data.deliveries, data.opens, data.redemptions, data.conversions], el);

  var pending = null;
  window.addEventListener("resize", function () {
    if (pending) cancelAnimationFrame(pending);
    pending = requestAnimationFrame(function () { plot.setSize(size()); });
  });
  el.setAttribute("data-ready", "1");
})();
