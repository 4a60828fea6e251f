/*! Support desk help button. No dependencies. Put on any page:
 *   <script src="https://desk.example/static/support/widget.js" defer></script>
 * Options, as attributes of that tag:
 *   data-label="Help"                           the button's text
 *   data-close-label="Close"                    the close button's name for screen readers
 *   data-form="https://desk.example/support/embed/"  the form (default: /support/embed/
 *                                               on the script's own host)
 *   data-identity="<JWT>"                       who is logged in, signed by the platform
 *                                               (see the README); the form then does not
 *                                               ask for their e-mail address. It is POSTed
 *                                               to <form>open/, never put in a URL
 * The desk must list this site in SUPPORT["FRAME_ANCESTORS"], or the browser will not
 * show the form. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__supportWidget) return;
  window.__supportWidget = true;
  var data = script.dataset;
  var formUrl = new URL(data.form || "/support/embed/", script.src);
  var label = data.label || "Help";
  var opened = false;
  var css =
    ".sd-btn{position:fixed;right:1rem;bottom:1rem;z-index:2147483000;font:600 16px/1 system-ui,sans-serif;" +
    "padding:.75rem 1.1rem;border:0;border-radius:2rem;background:#1f6feb;color:#fff;cursor:pointer;" +
    "box-shadow:0 2px 8px rgba(0,0,0,.3)}.sd-btn:focus-visible,.sd-close:focus-visible{outline:3px solid #fb8500;outline-offset:2px}" +
    ".sd-dlg{width:min(36rem,calc(100vw - 2rem));height:min(44rem,calc(100vh - 2rem));padding:0;border:0;" +
    "border-radius:8px;box-shadow:0 4px 24px rgba(0,0,0,.4);overflow:hidden}.sd-dlg::backdrop{background:rgba(0,0,0,.4)}" +
    ".sd-frame{width:100%;height:100%;border:0}.sd-close{position:absolute;top:.4rem;right:.4rem;" +
    "font:20px/1 system-ui,sans-serif;width:2rem;height:2rem;border:0;border-radius:50%;background:#eaeef2;cursor:pointer}";

  function start() {
    var style = document.createElement("style");
    style.textContent = css;
    document.head.appendChild(style);

    var button = document.createElement("button");
    button.type = "button";
    button.className = "sd-btn";
    button.textContent = label;
    button.setAttribute("aria-haspopup", "dialog");

    var dialog = document.createElement("dialog");
    dialog.className = "sd-dlg";
    dialog.setAttribute("aria-label", label);
    var close = document.createElement("button");
    close.type = "button";
    close.className = "sd-close";
    close.textContent = "\u00d7";
    close.setAttribute("aria-label", data.closeLabel || "Close");
    var frame = document.createElement("iframe");
    frame.className = "sd-frame";
    frame.name = "sd-frame";
    frame.title = label;
    dialog.appendChild(close);
    dialog.appendChild(frame);

    button.addEventListener("click", function () {
      dialog.showModal();
      // Loaded on first use, with what support needs to know about this page, POSTed into
      // the iframe: a request body is not logged by servers and proxies, a URL is.
      if (!opened) {
        opened = true;
        var form = document.createElement("form");
        form.method = "post";
        form.action = new URL("open/", formUrl).href;
        form.target = frame.name;
        var fields = {
          location: location.pathname + location.search,
          language: navigator.language || "",
          screen: screen.width + "x" + screen.height,
          identity: data.identity || ""
        };
        for (var name in fields) {
          var input = document.createElement("input");
          input.type = "hidden";
          input.name = name;
          input.value = fields[name];
          form.appendChild(input);
        }
        document.body.appendChild(form);
        form.submit();
        form.remove();
      }
      frame.focus();
    });
    close.addEventListener("click", function () {
      dialog.close();
    });
    // Escape closes a modal dialog by itself, unless focus is in the form: then the form
    // asks for it.
    window.addEventListener("message", function (event) {
      if (event.source === frame.contentWindow && event.origin === formUrl.origin &&
          event.data === "support:close") dialog.close();
    });
    dialog.addEventListener("close", function () {
      button.focus();
    });
    document.body.appendChild(button);
    document.body.appendChild(dialog);
  }

  if (document.body) start();
  else document.addEventListener("DOMContentLoaded", start);
})();
