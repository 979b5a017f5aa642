/* The ticket explorer's table position in the URL (dashboards/explore_tickets.py).

   `keepTableRow` runs on the grid's paginationInfo: it writes the first row of the page
   on screen as `row=` (dropped on the first page) with history.replaceState, so paging
   neither adds history entries nor rebuilds the page. Every other key of the query is
   kept as it is; parsing and validation: dashboards/_explore_state.py.

   The filter drawer (`details.explore-drawer`) stays as the user left it when a filter
   rebuilds the page (one tab's sessionStorage): picking a category leaves it open for
   the next pick, and a closed drawer keeps the first chart in view. Its fields are
   mounted when it first opens (explore_tickets.mount_drawer).

   Charts below the fold are drawn, and blocks below it (the ticket table) mounted,
   only when they come near the window: a page load spends its main thread on what is
   on screen (Total Blocking Time, docs/benchmarks.md). On the ticket page AG Grid's
   bundle itself runs only then, or before a link leaves for another page (app.py). */
(function () {
    "use strict";

    function keepTableRow(info) {
        if (!info || typeof info.currentPage !== "number" || !info.pageSize) {
            return;
        }
        var row = info.currentPage * info.pageSize;
        var params = new URLSearchParams(window.location.search);
        if ((params.get("row") || "0") === String(row)) {
            return;
        }
        if (row > 0) {
            params.set("row", String(row));
        } else {
            params.delete("row");
        }
        var search = params.toString();
        window.history.replaceState(
            window.history.state, "",
            window.location.pathname + (search ? "?" + search : "") + window.location.hash
        );
    }

    var DRAWER = "explore-drawer-open";

    document.addEventListener("toggle", function (event) {
        var el = event.target;
        if (el.classList && el.classList.contains("explore-drawer")) {
            window.sessionStorage.setItem(DRAWER, el.open ? "1" : "");
            var fields = el.querySelector("[data-seen-store]");
            if (el.open && fields) {  // its fields are mounted when it first opens
                reveal(fields);
            }
        }
    }, true);  // toggle does not bubble

    new MutationObserver(function () {
        var el = document.querySelector("details.explore-drawer:not([data-restored])");
        if (el) {
            el.setAttribute("data-restored", "");
            el.open = window.sessionStorage.getItem(DRAWER) === "1";
        }
    }).observe(document.documentElement, {childList: true, subtree: true});

    // A ticket chart is mounted and drawn once its place comes within 300 px of the
    // window (at once for those on screen): its "seen" store (explore_tickets.chart)
    // turns true and its callback answers with the graph. Charts below the fold then
    // cost a page load nothing (Total Blocking Time).
    var seen = "IntersectionObserver" in window ? new IntersectionObserver(function (entries) {
        entries.forEach(function (entry) {
            // a chart of a page since rebuilt from a new URL has no store any more
            if (!entry.isIntersecting || !entry.target.isConnected) {
                return;
            }
            seen.unobserve(entry.target);
            var id = JSON.parse(entry.target.id);
            window.dash_clientside.set_props(
                {type: "explore-chart-seen", index: id.index}, {data: true});
        });
    }, {rootMargin: "300px 0px"}) : null;

    function watchCharts() {
        document.querySelectorAll(".explore-graph--lazy:not([data-watched])")
            .forEach(function (graph) {
                graph.setAttribute("data-watched", "");
                if (seen) {
                    seen.observe(graph);
                } else {  // no observer: draw them all, as before
                    window.dash_clientside.set_props(
                        {type: "explore-chart-seen", index: JSON.parse(graph.id).index},
                        {data: true});
                }
            });
    }
    new MutationObserver(watchCharts).observe(
        document.documentElement, {childList: true, subtree: true});

    // A block below the fold (the ticket table: _explore_pages.lazy_slot) is mounted
    // once it comes within 300 px of the window, or when focus enters its panel, so a
    // keyboard user tabbing down the page gets it before reaching it.
    function reveal(slot) {
        if (slot.hasAttribute("data-revealed") || !slot.isConnected) {
            return;
        }
        slot.setAttribute("data-revealed", "");
        var show = function () {
            window.dash_clientside.set_props(slot.getAttribute("data-seen-store"),
                                             {data: true});
        };
        if (slot.id === "explore-table-slot") {
            withGrid(show);
        } else {
            show();
        }
    }

    // AG Grid's bundle: the ticket page lists it without running it (app.py page_tags,
    // `data-lazy-src`), so a load does not evaluate it for a table below the fold. It
    // runs before the table mounts, or before a link leaves for another page (the
    // accounts page renders a grid with its layout, and Dash cannot wait for a script).
    var gridWaiting = null;

    function gridPending() {
        return !window.dash_ag_grid && document.querySelector("script[data-lazy-src]") !== null;
    }

    function withGrid(then) {
        if (!gridPending()) {
            then();
            return;
        }
        if (gridWaiting) {
            gridWaiting.push(then);
            return;
        }
        gridWaiting = [then];
        var listed = document.querySelector("script[data-lazy-src]");
        var script = document.createElement("script");
        script.src = listed.getAttribute("data-lazy-src");
        script.onload = script.onerror = function () {
            // tried once: a failed load must not send a link's click round again
            listed.removeAttribute("data-lazy-src");
            var waiting = gridWaiting;
            gridWaiting = null;
            waiting.forEach(function (run) { run(); });
        };
        document.head.appendChild(script);
    }

    document.addEventListener("click", function (event) {
        var link = event.target.closest && event.target.closest("a[href]");
        if (!link || !gridPending() || event.defaultPrevented || event.button !== 0 ||
                event.metaKey || event.ctrlKey || event.shiftKey || event.altKey ||
                link.hasAttribute("download") || (link.target && link.target !== "_self") ||
                link.origin !== window.location.origin ||
                link.pathname === window.location.pathname) {
            return;
        }
        // before dcc.Link's own handler (React listens below the document)
        event.preventDefault();
        event.stopPropagation();
        withGrid(function () { link.click(); });
    }, true);
    var near = "IntersectionObserver" in window ? new IntersectionObserver(function (entries) {
        entries.forEach(function (entry) {
            if (entry.isIntersecting) {
                near.unobserve(entry.target);
                reveal(entry.target);
            }
        });
    }, {rootMargin: "300px 0px"}) : null;

    function watchSlots() {
        document.querySelectorAll(".explore-lazy:not([data-watched])").forEach(function (slot) {
            slot.setAttribute("data-watched", "");
            if (near) {
                near.observe(slot);
            } else {
                reveal(slot);
            }
        });
    }
    new MutationObserver(watchSlots).observe(
        document.documentElement, {childList: true, subtree: true});
    document.addEventListener("focusin", function (event) {
        var panel = event.target.closest && event.target.closest(".explore-panel");
        var slot = panel && panel.querySelector(".explore-lazy:not([data-revealed])");
        if (slot) {
            reveal(slot);
        }
    });

    window.dash_clientside = Object.assign({}, window.dash_clientside, {
        explore: {keepTableRow: keepTableRow}
    });
})();
