// For pages that embed an undersign petition (the snippet on the petition page loads this):
// sizes each undersign iframe to the height its form reports (see embed-frame.js).
// Messages are only believed from the frame that sent them, at the origin it was loaded from.
(function () {
  "use strict";
  window.addEventListener("message", function (event) {
    var data = event.data;
    if (!data || data.type !== "undersign:height" || typeof data.height !== "number") { return; }
    var frames = document.getElementsByTagName("iframe");
    for (var i = 0; i < frames.length; i++) {
      var frame = frames[i];
      if (frame.contentWindow !== event.source) { continue; }
      var origin;
      try { origin = new URL(frame.src, window.location.href).origin; } catch (e) { return; }
      if (origin !== event.origin) { return; }
      frame.style.height = Math.max(120, Math.min(5000, Math.round(data.height))) + "px";
      return;
    }
  });
})();
