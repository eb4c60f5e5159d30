// django-import-export's "select all" box on the export page, bound here instead of in an
// onchange attribute (the Content-Security-Policy refuses inline scripts).
document.addEventListener("change", (event) => {
  if (event.target.matches("input.select-toggle") && typeof onSelectToggleChange === "function") {
    onSelectToggleChange(event);
  }
});
