/* The ticket explorer's table position in the URL (dashboards/explore_tickets.py).

   `keepTableRow` runs on the grid's paginationInfo: it writes the first row of the page
   on screen as `row=` (dropped on the first page) with history.replaceState, so paging
   neither adds history entries nor rebuilds the page. Every other key of the query is
   kept as it is; parsing and validation: dashboards/_explore_state.py. */
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

    window.dash_clientside = Object.assign({}, window.dash_clientside, {
        explore: {keepTableRow: keepTableRow}
    });
})();
