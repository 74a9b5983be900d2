// Needs First dashboard: keeps a broadcast's progress up to date while it is sent.
// Without this file the page has a Refresh link that does the same.
(function () {
  "use strict";

  var region = document.getElementById("progress");
  if (!region || region.getAttribute("data-active") !== "true") {
    return;
  }
  var announce = document.getElementById("progress-announce");
  var controls = document.getElementById("progress-controls");
  var paused = false;
  var timer = null;

  // Updates that start on their own can be paused (WCAG 2.2.2).
  var pause = document.createElement("button");
  pause.type = "button";
  pause.className = "secondary";
  pause.textContent = "Pause updates";
  pause.setAttribute("aria-pressed", "false");
  pause.addEventListener("click", function () {
    paused = !paused;
    pause.setAttribute("aria-pressed", paused ? "true" : "false");
    pause.textContent = paused ? "Resume updates" : "Pause updates";
  });
  if (controls) {
    controls.insertBefore(pause, controls.firstChild);
  }

  function finished(fresh) {
    window.clearInterval(timer);
    region.setAttribute("data-active", "false");
    document.querySelectorAll("[data-while-active]").forEach(function (element) {
      element.hidden = true;
    });
    // Only the end is announced: a count read out every few seconds would be noise.
    if (announce) {
      announce.textContent = fresh.getAttribute("data-finished") || "";
    }
  }

  function update() {
    if (paused) {
      return;
    }
    fetch(window.location.pathname, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        if (!html) {
          return;
        }
        var page = new DOMParser().parseFromString(html, "text/html");
        var fresh = page.getElementById("progress");
        if (!fresh) {
          return;
        }
        region.innerHTML = fresh.innerHTML;
        if (fresh.getAttribute("data-active") !== "true") {
          finished(fresh);
        }
      })
      .catch(function () {
        // A dropped connection: try again at the next tick.
      });
  }

  timer = window.setInterval(update, 3000);
})();
