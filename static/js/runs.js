/* Run pages: Input | Output | Diff tabs (arrow keys move between them), the failed step
   scrolled into view once, hover titles in the viewer's own time zone, and empty filters
   left out of the address htmx pushes. Without scripts every panel simply shows. */
(function () {
  // The element itself and everything inside it (htmx:load names each swapped-in element).
  function within(root, selector) {
    var found = Array.prototype.slice.call(root.querySelectorAll(selector));
    if (root.matches && root.matches(selector)) found.unshift(root);
    return found;
  }

  function zone(root) {
    var name = Intl.DateTimeFormat().resolvedOptions().timeZone || "local time";
    within(root, "time[datetime]").forEach(function (el) {
      var at = new Date(el.getAttribute("datetime"));
      if (isNaN(at)) return;
      el.title = at.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" }) + " (" + name + ")";
    });
  }

  function select(tab) {
    var list = tab.closest("[role=tablist]");
    list.querySelectorAll("[role=tab]").forEach(function (other) {
      var chosen = other === tab;
      other.setAttribute("aria-selected", chosen ? "true" : "false");
      other.tabIndex = chosen ? 0 : -1;
      var panel = document.getElementById(other.getAttribute("aria-controls"));
      if (panel) panel.hidden = !chosen;
    });
  }

  function tabs(root) {
    within(root, "[data-tabs]").forEach(function (box) {
      if (box.dataset.ready) return;
      box.dataset.ready = "1";
      var all = Array.prototype.slice.call(box.querySelectorAll("[role=tab]"));
      select(all[0]);
      all.forEach(function (tab, i) {
        tab.addEventListener("click", function () { select(tab); });
        tab.addEventListener("keydown", function (event) {
          var step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
          if (!step) return;
          var next = all[(i + step + all.length) % all.length];
          select(next);
          next.focus();
          event.preventDefault();
        });
      });
    });
  }

  function setUp(root) {
    zone(root);
    tabs(root);
  }

  document.addEventListener("DOMContentLoaded", function () {
    setUp(document);
    // On a phone the filters fold away (one tap opens them) so the runs show first.
    var box = document.querySelector("[data-filter-box]");
    if (box && window.matchMedia("(max-width: 720px)").matches && !document.querySelector("[data-testid=runs-filter-errors]")) {
      box.open = false;
    }
    var failed = document.querySelector("[data-failed]");
    if (failed) failed.scrollIntoView({ block: "start" });
  });
  document.addEventListener("htmx:load", function (event) { setUp(event.detail.elt); });
  document.addEventListener("htmx:configRequest", function (event) {
    if (!event.detail.elt.matches || !event.detail.elt.matches("[data-testid=run-filters]")) return;
    var params = event.detail.parameters;
    var keys = params instanceof FormData ? Array.from(params.keys()) : Object.keys(params);
    keys.forEach(function (key) {
      var value = params instanceof FormData ? params.get(key) : params[key];
      if (value === "" || value === null) {
        if (params instanceof FormData) params.delete(key); else delete params[key];
      }
    });
  });
})();
