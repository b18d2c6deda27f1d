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
  var layer, bounds;
  if (fence.geometry.type === "Point") {
    var c = L.latLng(fence.geometry.coordinates[1], fence.geometry.coordinates[0]);
    var r = fence.properties.radius_m || 0;
    layer = L.circle(c, Object.assign({ radius: r }, style));
    // A circle knows its bounds only once drawn; the map has no view yet.
    bounds = c.toBounds(2 * r);
  } else {
    layer = L.geoJSON(fence, { style: function () { return style; } });
    bounds = layer.getBounds();
  }
  map.fitBounds(bounds, { padding: [20, 20], animate: false });
  layer.addTo(map);
  el.setAttribute("data-ready", "1");
})();
