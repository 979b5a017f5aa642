/* Accessibility repairs for Dash 4 components that take no ARIA props.

   - dcc.RadioItems / dcc.Checklist render role="listbox" holding <label role="option">
     around a native input: a listbox containing inputs is "nested interactive" and has
     no name. The native inputs already say what they are, so the group becomes a
     radiogroup / group named by the `.filter-label` right before it (or its wrapping
     <label>), and the labels lose their option role.
   - dcc.Dropdown keeps an aria-hidden, focusable input that only hands focus to its
     button: taken out of the tab order (the button is focusable itself).
   - A chart that scrolls inside its panel (.explore-graph with overflow) can be focused,
     so a keyboard can scroll it, and is named by its panel's title.

   Runs on every DOM change, because Dash renders pages after load; each repair is
   idempotent and touches only attributes React does not manage on these elements. */
(function () {
    "use strict";
    var counter = 0;

    function nameFrom(group) {
        if (group.hasAttribute("aria-label") || group.hasAttribute("aria-labelledby")) {
            return;
        }
        var label = group.previousElementSibling;
        if (!label || !label.classList.contains("filter-label")) {
            label = group.closest("label") && group.closest("label").querySelector(".filter-label");
        }
        if (!label) {
            return;
        }
        if (!label.id) {
            counter += 1;
            label.id = "a11y-label-" + counter;
        }
        group.setAttribute("aria-labelledby", label.id);
    }

    function repair(root) {
        root.querySelectorAll('.dash-radioitems[role="listbox"], .dash-checklist[role="listbox"]')
            .forEach(function (group) {
                group.setAttribute(
                    "role", group.classList.contains("dash-radioitems") ? "radiogroup" : "group");
                nameFrom(group);
            });
        root.querySelectorAll('.dash-options-list-option[role="option"]').forEach(function (opt) {
            opt.removeAttribute("role");
            opt.removeAttribute("aria-selected");
        });
        root.querySelectorAll('.dash-dropdown-focus-target[tabindex="0"]').forEach(function (el) {
            el.setAttribute("tabindex", "-1");
        });
        root.querySelectorAll(".explore-graph:not([tabindex])").forEach(function (graph) {
            var overflow = window.getComputedStyle(graph).overflowY;
            if (overflow !== "auto" && overflow !== "scroll") {
                return;
            }
            var title = graph.closest("section") && graph.closest("section").querySelector("h2");
            graph.setAttribute("tabindex", "0");
            graph.setAttribute("role", "region");
            if (title) {
                graph.setAttribute("aria-label", title.textContent);
            }
        });
    }

    var pending = false;
    var observer = new MutationObserver(function () {
        if (pending) {
            return;
        }
        pending = true;
        window.requestAnimationFrame(function () {
            pending = false;
            repair(document);
        });
    });
    observer.observe(document.documentElement, {
        childList: true, subtree: true, attributes: true,
        attributeFilter: ["role", "aria-selected", "tabindex"]
    });
})();
