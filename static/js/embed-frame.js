// Runs inside the embedded sign form (/p/<slug>/embed): tells the page around the iframe how
// tall the form is, so that page's embed.js can size the frame without a scroll bar.
// Our own few lines: the popular iframe-resizer is GPL-3.0. Only the height is sent.
(function () {
  "use strict";
  if (window.parent === window) { return; }
  var main = document.querySelector("main") || document.body;
  var last = 0;

  function report() {
    var height = Math.ceil(main.getBoundingClientRect().bottom + window.scrollY + 16);
    if (Math.abs(height - last) < 2) { return; }
    last = height;
    window.parent.postMessage({ type: "undersign:height", height: height }, "*");
  }

  window.addEventListener("load", report);
  if (window.ResizeObserver) {
    new window.ResizeObserver(report).observe(main);
  } else {
    window.setInterval(report, 500);
  }
  report();
})();
