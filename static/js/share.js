// Copy-link button for the share box. Without JavaScript the link stays visible in its
// read-only field; with it, a button copies the link and says so.
(function () {
  "use strict";
  function copy(text, input) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    input.focus();
    input.select();
    return document.execCommand("copy") ? Promise.resolve() : Promise.reject(new Error("copy refused"));
  }
  document.querySelectorAll("[data-copy-target]").forEach(function (button) {
    var input = document.getElementById(button.getAttribute("data-copy-target"));
    if (!input) { return; }
    var box = button.closest(".copy-link");
    var status = box ? box.querySelector(".copy-status") : null;
    button.hidden = false;
    button.addEventListener("click", function () {
      copy(input.value, input).then(function () {
        if (status) { status.textContent = "Link copied."; }
      }, function () {
        input.focus();
        input.select();
        if (status) { status.textContent = "Press Ctrl+C (or ⌘C) to copy the selected link."; }
      });
    });
  });
})();
