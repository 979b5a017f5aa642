/* The page's kind before the first render. On a wall path the site menu is hidden from
   the first paint; elsewhere the shell (app.py) starts with its menu. Before this, every
   page started bare and grew a 63 px menu once a callback ran, shifting the whole page
   down (Lighthouse: cumulative layout shift 0.87). app.py's clientside callback keeps the
   class right when the path changes inside the page. */
(function () {
    "use strict";
    if ((window.location.pathname || "").indexOf("/wall") === 0) {
        document.documentElement.classList.add("shell-wall");
    }
})();
