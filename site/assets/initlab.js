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

  /* A region that scrolls must be reachable by keyboard (axe scrollable-region-focusable, serious;
     WCAG 2.1.1): a wide table in Material's scroll wrapper with no link inside cannot be scrolled
     without a mouse. Make the wrappers that actually overflow focusable, as a region named after
     the table's caption; undo it when they stop overflowing (resize). */
  function focusableScrollers() {
    document.querySelectorAll(".md-typeset__scrollwrap").forEach(function (el) {
      var overflows = el.scrollWidth > el.clientWidth + 1;
      if (overflows && !el.hasAttribute("tabindex")) {
        var figure = el.closest("figure");
        var caption = figure && figure.querySelector("figcaption");
        el.setAttribute("tabindex", "0");
        el.setAttribute("data-initlab-scroll", "");
        if (caption && caption.textContent.trim()) {
          el.setAttribute("role", "region");
          el.setAttribute("aria-label", caption.textContent.trim());
        }
      } else if (!overflows && el.hasAttribute("data-initlab-scroll")) {
        ["tabindex", "data-initlab-scroll", "role", "aria-label"].forEach(function (a) { el.removeAttribute(a); });
      }
    });
  }

  /* The header's language selector links to this page's translation without the #section; the
     section ids are identical in both languages, so carry the reader's current #anchor along
     (training/#depth -> en/training/#depth), also after the reader follows an in-page link. The
     explorer keeps its state in the hash with replaceState (no hashchange event) and then fires
     "initlab:hash" (site/assets/explorer/explorer.js), so its view survives the language switch too. */
  function languageLinksKeepAnchor() {
    document.querySelectorAll("a.md-select__link[hreflang]").forEach(function (a) {
      if (!a.hasAttribute("data-initlab-href")) {
        a.setAttribute("data-initlab-href", a.getAttribute("href").split("#")[0]);
      }
      a.setAttribute("href", a.getAttribute("data-initlab-href") + location.hash);
    });
  }

  function init() {
    nameSearchDialog();
    focusableScrollers();
    languageLinksKeepAnchor();
  }

  // Material wraps tables in its scroll wrapper from its own script, on document$ (RxJS); extra
  // scripts are meant to subscribe to it too (our subscription runs after Material's own).
  if (window.document$ && typeof window.document$.subscribe === "function") {
    window.document$.subscribe(init);
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
  window.addEventListener("load", focusableScrollers);  // fonts and images can change widths
  window.addEventListener("resize", focusableScrollers);
  window.addEventListener("hashchange", languageLinksKeepAnchor);
  window.addEventListener("initlab:hash", languageLinksKeepAnchor);
})();
