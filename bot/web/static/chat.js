// Needs First web chat: small enhancements only; every page works without this file.
(function () {
  "use strict";

  // After a reply the page reloads at #latest: move focus there, so that a screen
  // reader goes on from the new messages rather than from the top of the page.
  if (window.location.hash === "#latest") {
    var latest = document.getElementById("latest");
    if (latest) {
      latest.focus({ preventScroll: false });
    }
  }

  // A second press is handled once anyway (each form has its own key); disabling
  // the buttons after the first shows that the press was taken.
  document.querySelectorAll("form").forEach(function (form) {
    form.addEventListener("submit", function () {
      window.setTimeout(function () {
        form.querySelectorAll("button").forEach(function (button) {
          button.disabled = true;
        });
      }, 0);
    });
  });

  // Ctrl+Enter (or Cmd+Enter) sends an answer; Enter alone adds a new line.
  var text = document.getElementById("answer-text");
  if (text && text.form) {
    text.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        text.form.requestSubmit();
      }
    });
  }
})();
