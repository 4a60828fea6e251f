// The admin's ticket page: leaving it with text that was not sent asks first.
//
// Whatever was typed into the page's form (a reply, a status, tags) is lost when the page
// is left any other way than by its own buttons, which send it: a link, a reload, closing
// the tab. The browser then asks whether to leave (its own wording; browsers show no other).
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("ticket_form");
    if (!form) return;
    var body = form.elements.namedItem("body");
    var snapshot = function () {
      return new URLSearchParams(new FormData(form)).toString();
    };
    var loaded = snapshot();
    var submitting = false;
    form.addEventListener("submit", function () {
      submitting = true;
    });
    // A message shown again after it was refused is unsent too, though nothing changed.
    var unsent = function () {
      return (body && body.value.trim() !== "") || snapshot() !== loaded;
    };
    window.addEventListener("beforeunload", function (event) {
      if (submitting || !unsent()) return;
      event.preventDefault();
      event.returnValue = "";  // older browsers ask only when this is set
    });
    // A submit that the page does not leave (bfcache, a refused navigation) starts over.
    window.addEventListener("pageshow", function () {
      submitting = false;
    });
  });
})();
