// The call builder's small enhancements (every page works without them). Served from
// static/ so the Content-Security-Policy stays as it is (no inline scripts).
"use strict";

// Someone else editing the same call: every 20 seconds (data-every) ask the draft's revision; when it
// moved on since this page was made, say so before the person saves (the server refuses a
// save from an old revision anyway, keeping what was typed).
(function () {
  var watch = document.getElementById("draft-watch");
  if (!watch || !window.fetch) { return; }
  var seen = watch.getAttribute("data-revision");
  var timer = window.setInterval(function () {
    fetch(watch.getAttribute("data-url"), { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (state) {
        if (!state || String(state.revision) === seen) { return; }
        watch.textContent = state.warning;
        watch.hidden = false;
        window.clearInterval(timer);
      })
      .catch(function () { /* offline for a moment: ask again next time */ });
  }, 1000 * (Number(watch.getAttribute("data-every")) || 20));
})();
