/* Encore dashboard: copy buttons and the live link page. No build step, no inline script.
   Everything here is an enhancement: without it the pages still show every number. */
(function () {
  "use strict";

  function copyButtons() {
    document.querySelectorAll("button.copy[data-copy]").forEach(function (button) {
      var input = document.getElementById(button.getAttribute("data-copy"));
      if (!input) return;
      button.hidden = false;
      button.addEventListener("click", function () {
        var done = function () {
          button.textContent = "Copied";
          button.setAttribute("data-copied", "true");
          setTimeout(function () { button.textContent = "Copy"; }, 2000);
        };
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(input.value).then(done, function () {
            input.select(); document.execCommand("copy"); done();
          });
        } else {
          input.select(); document.execCommand("copy"); done();
        }
      });
    });
  }

  // One stream per open page; on an error it is closed and reopened after a growing wait
  // (1 s doubling to 30 s), so a down gateway is not hammered by every open page.
  function live() {
    var section = document.querySelector("[data-live]");
    if (!section || !window.EventSource) return;
    var state = document.querySelector("[data-live-state]");
    var url = section.getAttribute("data-live");
    var wait = 1000, source = null, updates = 0;

    function say(text) { if (state) state.textContent = text; }

    function open() {
      source = new EventSource(url);
      source.addEventListener("open", function () { wait = 1000; });
      source.addEventListener("report", function (event) {
        section.innerHTML = event.data;
        updates += 1;
        section.setAttribute("data-updates", String(updates));
        say("Updated " + new Date().toLocaleTimeString());
      });
      source.addEventListener("error", function () {
        source.close();
        say("Live updates paused; retrying.");
        setTimeout(open, wait);
        wait = Math.min(wait * 2, 30000);
      });
    }
    open();
    window.addEventListener("pagehide", function () { if (source) source.close(); });
  }

  document.addEventListener("DOMContentLoaded", function () { copyButtons(); live(); });
})();
