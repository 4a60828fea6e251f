// The admin's ticket page: typed text is never lost without the person being told.
//
// Leaving the page with text that was not sent asks first: a link, a reload, closing the
// tab (the browser's own question; browsers show no other wording). And what is typed in
// the message box is kept in this browser (localStorage, one draft per ticket) until it
// is sent, so that a Send that never arrived (the session ended in another tab: the login
// page; the CSRF token changed: a 403 page) loses nothing: back on the ticket's page, the
// draft is put back in the box, with a note saying so. A draft is dropped once the page
// shows it sent (the latest message of this person is that text), or when the box is
// emptied.
(function () {
  "use strict";
  var PREFIX = "support-draft:";

  function storage() {
    try {
      return window.localStorage;  // absent, or refused (a private window, a policy)
    } catch (error) {
      return null;
    }
  }

  function lines(text) {
    return text.replace(/\r\n?/g, "\n");  // forms send CRLF, boxes hold LF
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("ticket_form");
    if (!form) return;
    var body = form.elements.namedItem("body");
    var answer = document.getElementById("answer");
    var store = storage();
    if (body && answer && answer.dataset.draftKey && store) {
      keepDrafts(form, body, answer, store, PREFIX + answer.dataset.draftKey);
    }

    var snapshot = function () {
      return new URLSearchParams(new FormData(form)).toString();
    };
    var loaded = snapshot();
    var submitting = false;
    form.addEventListener("submit", function () {
      submitting = true;
    });
    // A message shown again after it was refused (or a draft put back) is unsent too,
    // though nothing changed since the page loaded.
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

  function keepDrafts(form, body, answer, store, key) {
    var kinds = form.querySelectorAll("input[name=kind]");
    var draft = null;
    try {
      draft = JSON.parse(store.getItem(key) || "null");
    } catch (error) {
      draft = null;
    }
    var sent = document.getElementById("support-last-sent");
    var lastSent = sent ? JSON.parse(sent.textContent) : null;
    if (draft && typeof draft.body === "string") {
      if (lastSent !== null && lines(draft.body) === lines(lastSent)) {
        store.removeItem(key);  // sent: this page shows it
      } else if (body.value.trim() === "" && draft.body.trim() !== "") {
        body.value = draft.body;
        kinds.forEach(function (input) {
          input.checked = input.value === draft.kind;
        });
        var note = document.getElementById("draft-restored");
        if (note) note.hidden = false;
      }
    }
    var save = function () {
      if (body.value.trim() === "") {
        store.removeItem(key);
        return;
      }
      var kind = form.querySelector("input[name=kind]:checked");
      try {
        store.setItem(key, JSON.stringify({body: body.value, kind: kind ? kind.value : ""}));
      } catch (error) {
        // Storage full or refused: the question on leaving still guards the text.
      }
    };
    body.addEventListener("input", save);
    kinds.forEach(function (input) {
      input.addEventListener("change", save);
    });
    save();  // what the server showed again after a refusal is a draft too
  }
})();
