// The fences page: the brand's fences on a Leaflet map, and (for keys that may write)
// geoman's circle and polygon tools filling the new-fence form. No inline script: the page's
// Content-Security-Policy allows scripts from this origin only.
(function () {
  "use strict";
  var el = document.getElementById("map");
  if (!el || !window.L) return;
  var features = JSON.parse(document.getElementById("fences-data").textContent);
  var cfg = JSON.parse(document.getElementById("map-config").textContent);

  var map = L.map(el, { attributionControl: !!cfg.tile_url, worldCopyJump: true });
  if (cfg.tile_url) {
    L.tileLayer(cfg.tile_url, { attribution: cfg.attribution || "", maxZoom: 19 }).addTo(map);
  }
  L.control.scale({ imperial: false }).addTo(map);
  // Fences: blue; the one just drawn: orange. Holes are drawn as holes (GeoJSON rings).
  var style = { color: "#1f5fbf", weight: 2, fillOpacity: 0.15 };
  // A view first: a circle measures its bounds through the map it is on.
  map.setView([40.7484, -73.9857], 14);
  var byId = {};
  var fences = L.featureGroup().addTo(map);
  features.forEach(function (f) {
    var layer;
    if (f.geometry.type === "Point") {
      var c = f.geometry.coordinates;
      layer = L.circle([c[1], c[0]], L.extend({ radius: f.properties.radius_m, pmIgnore: true }, style));
    } else {
      layer = L.geoJSON(f, { style: style, pmIgnore: true });
    }
    var label = f.properties.name + (f.properties.external_id ? " (" + f.properties.external_id + ")" : "");
    layer.bindTooltip(label);
    layer.on("click", function () { select(f.id); });
    byId[f.id] = layer;
    fences.addLayer(layer);
  });
  if (fences.getLayers().length) {
    map.fitBounds(fences.getBounds(), { padding: [24, 24], maxZoom: 17 });
  }

  function select(id, still) {
    var items = document.querySelectorAll("#fence-list li");
    for (var i = 0; i < items.length; i++) {
      items[i].classList.toggle("selected", items[i].getAttribute("data-id") === id);
    }
    var layer = byId[id];
    if (layer) map.fitBounds(layer.getBounds(), { padding: [24, 24], maxZoom: 17, animate: !still });
  }
  var names = document.querySelectorAll("#fence-list .fence-name");
  for (var i = 0; i < names.length; i++) {
    names[i].addEventListener("click", function (e) { select(e.currentTarget.getAttribute("data-id")); });
  }

  // Import: the chosen file's text goes into the form (read here, posted as one field).
  var importFile = document.getElementById("import-file");
  if (importFile) {
    var importForm = document.getElementById("import-form");
    var collection = document.getElementById("collection");
    var reading = null;
    importFile.addEventListener("change", function () {
      var file = importFile.files[0];
      collection.value = "";
      if (!file) return;
      reading = file.text().then(function (text) { collection.value = text; reading = null; });
    });
    importForm.addEventListener("submit", function (e) {
      if (!reading) return;
      e.preventDefault();
      reading.then(function () { importForm.submit(); });
    });
  }

  if (!cfg.can_write || !map.pm) return;
  var form = document.getElementById("fence-form");
  var geometry = document.getElementById("geometry");
  var radius = document.getElementById("radius_m");
  var summary = document.getElementById("shape-summary");
  var tz = document.getElementById("timezone");
  var drawn = null;

  map.pm.addControls({
    position: "topleft",
    drawMarker: false, drawCircleMarker: false, drawPolyline: false, drawRectangle: false,
    drawText: false, cutPolygon: false, rotateMode: false, editMode: false, dragMode: false,
    removalMode: false, drawCircle: true, drawPolygon: true
  });
  map.pm.setGlobalOptions({ pathOptions: { color: "#d9641e", weight: 2, fillOpacity: 0.2 } });

  function show(layer, shape) {
    if (drawn && drawn !== layer) map.removeLayer(drawn);
    drawn = layer;
    if (shape === "Circle") {
      var c = layer.getLatLng().wrap();
      geometry.value = JSON.stringify({ type: "Point", coordinates: [c.lng, c.lat] });
      radius.value = String(Math.round(layer.getRadius()));
      summary.textContent = "A circle of " + radius.value + " m.";
    } else {
      var g = layer.toGeoJSON(12).geometry;
      geometry.value = JSON.stringify(g);
      radius.value = "";
      summary.textContent = "A polygon of " + (g.coordinates[0].length - 1) + " points.";
    }
    if (!tz.value) {
      try { tz.value = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { /* leave empty */ }
    }
    form.classList.remove("hidden");
    document.getElementById("name").focus({ preventScroll: true });
  }
  map.on("pm:create", function (e) { show(e.layer, e.shape); });

  // Reshape an existing fence: geoman's edit mode on that one layer; the shape form sends
  // the new geometry, the rest of the fence stays as it is.
  var shapeForm = document.getElementById("shape-form");
  var editing = null;
  function editable(id) {
    var layer = byId[id];
    if (layer && layer.getLayers) layer = layer.getLayers()[0];
    return layer;
  }
  function reshape(id) {
    if (editing) editing.pm.disable();
    var layer = editable(id);
    if (!layer) return;
    // No animation: the edit markers are placed where the fence ends up.
    select(id, true);
    layer.options.pmIgnore = false;
    L.PM.reInitLayer(layer);
    layer.pm.enable({ allowSelfIntersection: false });
    editing = layer;
    shapeForm.action = shapeForm.getAttribute("data-base") + id + "/shape";
    var f = features.filter(function (x) { return x.id === id; })[0];
    document.getElementById("shape-name").textContent = f ? f.properties.name : "";
    shapeForm.classList.remove("hidden");
  }
  var reshapes = document.querySelectorAll("#fence-list button.reshape");
  for (var r = 0; r < reshapes.length; r++) {
    reshapes[r].addEventListener("click", function (e) { reshape(e.currentTarget.getAttribute("data-id")); });
  }
  shapeForm.addEventListener("submit", function () {
    if (!editing) return;
    if (editing instanceof L.Circle) {
      var c = editing.getLatLng().wrap();
      shapeForm.elements.geometry.value = JSON.stringify({ type: "Point", coordinates: [c.lng, c.lat] });
      shapeForm.elements.radius_m.value = String(Math.round(editing.getRadius()));
    } else {
      shapeForm.elements.geometry.value = JSON.stringify(editing.toGeoJSON(12).geometry);
      shapeForm.elements.radius_m.value = "";
    }
  });
  document.getElementById("cancel-shape").addEventListener("click", function () {
    window.location.reload();
  });

  // After a refused save the page comes back with the shape: draw it again.
  if (geometry.value) {
    try {
      var g = JSON.parse(geometry.value);
      var again = g.type === "Point"
        ? L.circle([g.coordinates[1], g.coordinates[0]], { radius: Number(radius.value) || 50 })
        : L.geoJSON(g).getLayers()[0];
      if (again) {
        again.setStyle({ color: "#d9641e", weight: 2, fillOpacity: 0.2 });
        again.addTo(map);
        drawn = again;
        map.fitBounds(again.getBounds(), { padding: [48, 48], maxZoom: 16 });
      }
    } catch (e) { geometry.value = ""; }
  }
  // A refused save: bring the first message into view.
  var firstError = document.querySelector("#error-map, #error-shape, #fence-form .error, #import-errors");
  if (firstError) firstError.scrollIntoView({ block: "center" });

  document.getElementById("cancel-fence").addEventListener("click", function () {
    if (drawn) map.removeLayer(drawn);
    drawn = null;
    geometry.value = "";
    radius.value = "";
    summary.textContent = "";
    form.classList.add("hidden");
  });
})();
