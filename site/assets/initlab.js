/* initlab site script (copied to docs/assets/ at render time). No external requests. */
(function () {
  "use strict";

  /* Material's search overlay has role="dialog" but no accessible name (axe: aria-dialog-name).
     Name it after the search input's own label, which is already localized (검색 / Search). */
  function nameSearchDialog() {
    var dialog = document.querySelector('.md-search[role="dialog"]');
    var input = document.querySelector(".md-search__input");
    if (dialog && !dialog.hasAttribute("aria-label") && input) {
      dialog.setAttribute("aria-label", input.getAttribute("aria-label") || "Search");
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", nameSearchDialog);
  } else {
    nameSearchDialog();
  }
})();
