// What every page does in the browser, kept out of the HTML so the Content-Security-Policy can
// refuse inline script and inline event handlers. Listeners sit on the document, so content
// htmx swaps in later works the same way.
"use strict";

// one open menu group at a time, closed by a click elsewhere (the menu works without this)
document.addEventListener("click", (event) => {
  document.querySelectorAll("details.navgroup[open]").forEach((group) => {
    if (!group.contains(event.target)) group.removeAttribute("open");
  });
});

// a choice that takes effect at once: the language, the sampling point (without script the
// form's own button sends it)
document.addEventListener("change", (event) => {
  const select = event.target.closest("select[data-submit-on-change]");
  if (select && select.form) select.form.submit();
});

// a secret shown once, selected on a click, ready to copy
document.addEventListener("click", (event) => {
  const field = event.target.closest("input[data-select-on-click]");
  if (field) field.select();
});
