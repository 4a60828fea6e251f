// The requester's forms: tell support what the browser shows, bring errors to the reader,
// and take files as people give them (chosen, pasted, dropped).
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

  // A screenshot pasted (Ctrl+V) anywhere in the form, or files dropped on it, join the
  // files chosen; the list shows them with a button to leave each out, and the field is
  // invalid (the browser says why before sending) past the limits the desk enforces.
  var each = function (list, fn) { Array.prototype.forEach.call(list, fn); };
  var size = function (bytes) {
    var units = ["bytes", "KB", "MB", "GB"], i = 0;
    while (bytes >= 1024 && i < units.length - 1) { bytes /= 1024; i++; }
    return (i ? bytes.toFixed(1) : bytes) + " " + units[i];
  };
  document.querySelectorAll("input[type=file][data-support-files]").forEach(function (input) {
    var form = input.form, data = input.dataset;
    var list = document.getElementById(input.id + "_chosen");
    var replace = function (files) {
      var all = new DataTransfer();
      each(files, function (file) { all.items.add(file); });
      input.files = all.files;
      show();
    };
    var show = function () {
      var problem = "", total = 0;
      list.textContent = "";
      each(input.files, function (file, index) {
        total += file.size;
        if (file.size > +data.maxBytes && !problem) problem = data.tooLarge.replace("{name}", file.name);
        var item = document.createElement("li"), remove = document.createElement("button");
        item.textContent = file.name + " (" + size(file.size) + ")";
        remove.type = "button";
        remove.textContent = data.remove;
        remove.setAttribute("aria-label", data.remove + ": " + file.name);
        remove.addEventListener("click", function () {
          replace(Array.prototype.filter.call(input.files, function (f, i) { return i !== index; }));
        });
        item.appendChild(remove);
        list.appendChild(item);
      });
      var kept = form.querySelectorAll("input[name=kept]:checked").length;
      if (!problem && input.files.length + kept > +data.maxFiles) problem = data.tooMany;
      if (!problem && total > +data.maxTotal) problem = data.tooMuch;
      input.setCustomValidity(problem);
      if (problem) input.reportValidity();
    };
    var add = function (files) {
      var all = Array.prototype.slice.call(input.files);
      replace(all.concat(Array.prototype.slice.call(files)));
    };
    input.addEventListener("change", show);
    form.addEventListener("change", function (event) { if (event.target.name === "kept") show(); });
    form.addEventListener("paste", function (event) {
      var files = [], text = false, stamp = new Date().toISOString().slice(0, 19).replace(/[-:]/g, "");
      each((event.clipboardData || {}).items || [], function (item) {
        if (item.kind === "string" && item.type === "text/plain") text = true;
        var file = item.kind === "file" && item.getAsFile();
        if (!file) return;
        // A pasted screenshot is called image.png: give it a name worth keeping.
        var ending = (file.type.split("/")[1] || "png").replace("jpeg", "jpg");
        if (/^image\.\w+$/.test(file.name)) {
          file = new File([file], data.pasted + "-" + stamp + (files.length ? "-" + files.length : "") + "." + ending, { type: file.type });
        }
        files.push(file);
      });
      if (!files.length) return;
      if (!text) event.preventDefault();  // the text, if any, is still pasted as text
      add(files);
    });
    form.addEventListener("dragover", function (event) {
      if (event.dataTransfer && Array.prototype.indexOf.call(event.dataTransfer.types, "Files") >= 0) {
        event.preventDefault();
        form.classList.add("support-dropping");
      }
    });
    form.addEventListener("dragleave", function () { form.classList.remove("support-dropping"); });
    form.addEventListener("drop", function (event) {
      form.classList.remove("support-dropping");
      if (!event.dataTransfer || !event.dataTransfer.files.length) return;
      event.preventDefault();
      add(event.dataTransfer.files);
    });
  });
})();
