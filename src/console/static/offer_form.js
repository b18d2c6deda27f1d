// The offer form's live copy preview: while the title, the body or the sample moment is
// edited, the form is posted (debounced) to the preview endpoint, which renders the copy
// through the check-in's own template code and answers JSON. The Preview button stays for
// browsers without script; nothing is saved either way.
(function () {
  "use strict";
  var form = document.getElementById("offer-form");
  if (!form || !window.fetch) return;
  var url = form.getAttribute("data-preview-url");
  var box = document.getElementById("preview");
  var title = document.getElementById("preview-title");
  var body = document.getElementById("preview-body");
  var problems = document.getElementById("preview-problems");
  var watched = ["title", "body", "sample_fence", "sample_temp_c", "sample_condition", "sample_item", "sample_distance_m"];
  var timer = null;
  var seq = 0;

  function show(answer) {
    var reasons = [];
    Object.keys(answer.errors || {}).forEach(function (field) {
      answer.errors[field].forEach(function (r) {
        reasons.push((field === "body" ? "Body: " : field === "title" ? "Title: " : "") + r);
      });
    });
    problems.textContent = reasons.join(" ");
    problems.hidden = reasons.length === 0;
    if (answer.preview) {
      title.textContent = answer.preview.title;
      body.textContent = answer.preview.body;
      box.hidden = false;
    } else {
      box.hidden = true;
    }
  }

  function refresh() {
    var mine = ++seq;
    var data = new URLSearchParams(new FormData(form));
    data.set("action", "preview");
    fetch(url, { method: "POST", body: data, credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        var type = r.headers.get("Content-Type") || "";
        if (type.indexOf("application/json") !== 0) throw new Error("status " + r.status);
        return r.json();
      })
      .then(function (answer) {
        // An older answer arriving late never overwrites a newer one.
        if (mine === seq) show(answer);
      })
      .catch(function () {
        if (mine !== seq) return;
        problems.textContent = "The preview could not be refreshed; use the Preview button.";
        problems.hidden = false;
      });
  }

  watched.forEach(function (id) {
    var el = document.getElementById(id);
    if (!el) return;
    var schedule = function () {
      clearTimeout(timer);
      timer = setTimeout(refresh, 300);
    };
    el.addEventListener("input", schedule);
    el.addEventListener("change", schedule);
  });
  form.setAttribute("data-live-preview", "1");
})();
