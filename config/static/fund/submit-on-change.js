// A <select data-submit-on-change> sends its form when a choice is made (the language switch,
// the year on the dashboard and the results overview). A file, not an onchange attribute:
// the Content-Security-Policy refuses inline scripts.
document.addEventListener("change", (event) => {
  const field = event.target;
  if (field instanceof HTMLSelectElement && field.hasAttribute("data-submit-on-change")) {
    field.form.submit();
  }
});
