// Keeps the supporter count fresh on an open petition: re-reads the public figures
// (/p/<slug>.json, cacheable) every 30 seconds while the page is visible.
(function () {
  "use strict";
  var holder = document.querySelector("[data-count-url]");
  if (!holder || !window.fetch) { return; }
  var url = holder.getAttribute("data-count-url");
  // Right after confirming, the server marks the page: skip the browser's cached copy of the figures.
  var cacheMode = holder.hasAttribute("data-count-fresh") ? "no-store" : "default";
  var PERIOD = 30000;
  var format = new Intl.NumberFormat("en-US");

  function show(count) {
    document.querySelectorAll("[data-live-count]").forEach(function (node) {
      node.textContent = format.format(count);
    });
    document.querySelectorAll("progress[data-live-progress]").forEach(function (bar) {
      bar.value = Math.min(count, Number(bar.max));
    });
  }

  function refresh() {
    if (document.visibilityState !== "visible") { return; }
    // Same-origin cookies go along: the "just confirmed" one makes the server read the count fresh.
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin", cache: cacheMode })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        var count = data.signature_count !== undefined ? data.signature_count : data.count;
        if (typeof count === "number" && count >= 0) { show(count); }
      })
      .catch(function () { /* offline or not served: keep the count the page came with */ });
  }

  window.setInterval(refresh, PERIOD);
  document.addEventListener("visibilitychange", refresh);
})();
