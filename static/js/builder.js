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

(function () {
  // The revision and CSRF token the page was made from: a move posted by dragging carries
  // them as the buttons' forms do, so a stale page is refused the same way.
  function hiddenValue(name) {
    var input = document.querySelector('input[name="' + name + '"]');
    return input ? input.value : "";
  }

  // Live preview: the question's page, as applicants see it, shown beside its settings
  // after every save (the page reloads after a save, so this runs again). Without the
  // script the section keeps its link to the preview page.
  function loadPreview(panel) {
    var url = panel.getAttribute("data-preview-url");
    if (!url || !window.fetch || !window.DOMParser) {
      return;
    }
    fetch(url, { credentials: "same-origin" })
      .then(function (response) {
        return response.ok ? response.text() : Promise.reject(response.status);
      })
      .then(function (html) {
        var page = new DOMParser().parseFromString(html, "text/html");
        var shown = page.querySelector(".builder-preview-page");
        if (!shown) {
          return;
        }
        var old = panel.querySelector(".builder-preview-page");
        if (old) {
          old.remove();
        }
        var copy = document.importNode(shown, true);
        copy.querySelectorAll("[id]").forEach(function (element) {
          element.id = "preview-" + element.id; // never a second element with a page's id
        });
        copy.querySelectorAll("label[for]").forEach(function (label) {
          label.htmlFor = "preview-" + label.htmlFor;
        });
        copy.querySelectorAll("h1").forEach(function (heading) {
          var smaller = document.createElement("h3"); // under the panel's own h2
          smaller.innerHTML = heading.innerHTML;
          heading.replaceWith(smaller);
        });
        copy.querySelectorAll("h2").forEach(function (heading) {
          var smaller = document.createElement("h4");
          smaller.innerHTML = heading.innerHTML;
          heading.replaceWith(smaller);
        });
        copy.querySelectorAll("input, select, textarea, button").forEach(function (control) {
          control.disabled = true;
        });
        panel.appendChild(copy);
      })
      .catch(function () {
        /* the link to the preview page is still there */
      });
  }

  // Dragging a question posts the same move endpoint as its Up and Down buttons, with the
  // place it was dropped on; the page then shows the saved order (or the conflict).
  function sortable(list) {
    var dragged = null;
    list.querySelectorAll("li[data-move-url]").forEach(function (item) {
      item.setAttribute("draggable", "true");
      item.classList.add("draggable");
      item.addEventListener("dragstart", function (event) {
        dragged = item;
        item.classList.add("dragging");
        event.dataTransfer.effectAllowed = "move";
        event.dataTransfer.setData("text/plain", item.id);
      });
      item.addEventListener("dragend", function () {
        item.classList.remove("dragging");
        dragged = null;
      });
      item.addEventListener("dragover", function (event) {
        if (dragged && dragged !== item && dragged.parentNode === item.parentNode) {
          event.preventDefault();
          event.dataTransfer.dropEffect = "move";
        }
      });
      item.addEventListener("drop", function (event) {
        if (!dragged || dragged === item || dragged.parentNode !== item.parentNode) {
          return;
        }
        event.preventDefault();
        var body = new FormData();
        body.append("revision", hiddenValue("revision"));
        body.append("csrf_token", hiddenValue("csrf_token"));
        body.append("position", item.getAttribute("data-position"));
        fetch(dragged.getAttribute("data-move-url"), {
          method: "POST",
          body: body,
          credentials: "same-origin",
        }).then(function (response) {
          if (response.redirected) {
            window.location.assign(response.url);
          } else {
            window.location.reload();
          }
        });
      });
    });
  }

  document.querySelectorAll("[data-builder-sortable]").forEach(sortable);
  document.querySelectorAll(".builder-preview[data-preview-url]").forEach(loadPreview);
})();
