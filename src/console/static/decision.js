// The decision page's small map: the matched fence only (never the person's position).
(function () {
  "use strict";
  var el = document.getElementById("decision-map");
  var fence = JSON.parse(document.getElementById("fence-data").textContent);
  var config = JSON.parse(document.getElementById("map-config").textContent);
  if (!el || !fence || !window.L) return;
  var map = L.map(el, { zoomControl: true, attributionControl: !!config.tile_url, scrollWheelZoom: false });
  if (config.tile_url) {
    L.tileLayer(config.tile_url, { attribution: config.attribution || "", maxZoom: 19 }).addTo(map);
  }
  var style = { color: "#1f5fbf", weight: 2, fillOpacity: 0.2 };
  var layer;
  if (fence.geometry.type === "Point") {
    var c = fence.geometry.coordinates;
    layer = L.circle([c[1], c[0]], Object.assign({ radius: fence.properties.radius_m || 0 }, style));
  } else {
    layer = L.geoJSON(fence, { style: function () { return style; } });
  }
  layer.addTo(map);
  map.fitBounds(layer.getBounds(), { padding: [20, 20], animate: false });
  el.setAttribute("data-ready", "1");
})();
