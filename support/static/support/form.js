// The help form: tell support what the browser shows, and bring errors to the reader.
(function () {
  document.querySelectorAll(".support-form").forEach(function (form) {
    var set = function (name, value) {
      var input = form.elements[name];
      if (input && !input.value) input.value = value;
    };
    set("language", navigator.language || "");
    set("screen", screen.width + "x" + screen.height);
    // After sending or previewing, start reading where the news is.
    var news = form.querySelector(".support-errors") || form.querySelector(".support-preview");
    if (news) news.focus();
  });
})();
