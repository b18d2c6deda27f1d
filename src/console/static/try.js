// The "Try it" page: the brand's fences on a map; a click puts the test point there and
// fills the form's latitude and longitude. No inline script (the page's CSP).
(function () {
  "use strict";
  var el = document.getElementById("map");
  if (!el || !window.L) return;
  var features = JSON.parse(document.getElementById("fences-data").textContent);
  var cfg = JSON.parse(document.getElementById("map-config").textContent);
  var lat = document.getElementById("lat");
  var lon = document.getElementById("lon");
  var hint = document.getElementById("point-hint");

  var map = L.map(el, { attributionControl: !!cfg.tile_url, worldCopyJump: true });
  if (cfg.tile_url) {
    L.tileLayer(cfg.tile_url, { attribution: cfg.attribution || "", maxZoom: 19 }).addTo(map);
  }
  L.control.scale({ imperial: false }).addTo(map);
  // No animation: the view is set once, and a screenshot or a click must not land mid-zoom.
  map.setView([40.7484, -73.9857], 14, { animate: false });
  var style = { color: "#1f5fbf", weight: 2, fillOpacity: 0.15 };
  var fences = L.featureGroup().addTo(map);
  features.forEach(function (f) {
    var layer;
    if (f.geometry.type === "Point") {
      var c = f.geometry.coordinates;
      layer = L.circle([c[1], c[0]], L.extend({ radius: f.properties.radius_m }, style));
    } else {
      layer = L.geoJSON(f, { style: style });
    }
    layer.bindTooltip(f.properties.name);
    fences.addLayer(layer);
  });

  var marker = null;
  function place(latlng) {
    var p = latlng.wrap();
    lat.value = p.lat.toFixed(6);
    lon.value = p.lng.toFixed(6);
    if (marker) marker.setLatLng(p);
    else marker = L.circleMarker(p, { radius: 7, color: "#d9641e", weight: 3, fillOpacity: 0.9 }).addTo(map);
    hint.textContent = "Test point: " + lat.value + ", " + lon.value + ". Choose the person and the moment, then Try it.";
    el.setAttribute("data-point", "1");
  }
  map.on("click", function (e) { place(e.latlng); });

  if (lat.value && lon.value) {
    var tried = L.latLng(parseFloat(lat.value), parseFloat(lon.value));
    place(tried);
    map.setView(tried, 17, { animate: false });
  } else if (fences.getLayers().length) {
    map.fitBounds(fences.getBounds(), { padding: [24, 24], maxZoom: 17, animate: false });
  }
  el.setAttribute("data-ready", "1");
})();
