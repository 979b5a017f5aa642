/* The LED wall's clientside loop (/wall): rotation, clock, data-version polling,
   reconnect. Runs unattended for weeks, so it allocates nothing that grows: one
   timer, one pending fetch at a time, no listeners added per tick.

   - Rotation: every `data-rotate` seconds (0 = pinned) the next slide fades in; on an
     ultra-wide canvas several 16:9 cells show consecutive slides side by side. With
     `data-screens` (?screens=) each screen rotates through its own slides only.
   - Clock and date: local time of the server's time zone (`data-tz`).
   - Polling: GET /api/wall/version every `data-poll` seconds; when its `key` differs
     from the one drawn, the `wall-version` store is set and Dash redraws the slides.
     A failed poll keeps the picture and shows the "reconnecting" mark until a poll
     succeeds again.
   - Filling: the slides arrive as HTML (the wall-html store); `fill` puts each changed
     one in place, a slide per frame (see below).
   Styles: wall.css; server side: dashboards/wall.py and dashboards/_version_api.py. */
(function () {
    "use strict";

    var TICK_MS = 250;
    var VERSION_URL = "/api/wall/version";
    var state = {
        key: null,          // version key of the picture on screen
        start: 0,           // index of the first slide shown
        starts: [],         // per screen of a stitched canvas (?screens=)
        shownAt: 0,         // when the current slide(s) appeared
        nextPoll: 0,
        inFlight: false,
        offline: false,
        polls: 0,
        failures: 0,
        redraws: 0,
        rotations: 0,
        filled: 0,          // slides whose content was replaced
        clockText: "",
        dateText: ""
    };
    var formatters = {};

    function wall() { return document.getElementById("wall"); }

    function seconds(el, name, fallback) {
        var v = parseFloat(el.getAttribute(name));
        return isNaN(v) ? fallback : v;
    }

    function slidesOf(box) {
        var out = [];
        for (var i = 0; i < box.children.length; i++) {
            if (box.children[i].classList.contains("wall-slide")) { out.push(box.children[i]); }
        }
        return out;
    }

    function cellsFor(n) {
        var ratio = window.innerWidth / Math.max(window.innerHeight, 1);
        var cells = Math.round(ratio / (16 / 9));
        return Math.max(1, Math.min(cells, n));
    }

    /* Show slides start .. start+cells-1 (mod n); cheap, idempotent, run every tick so
       that slides redrawn by Dash pick up their place at once. */
    function apply(w) {
        var box = document.getElementById("wall-slides");
        if (!box) { return; }
        var slides = slidesOf(box);
        var n = slides.length;
        if (!n) { return; }
        var split = byScreen(slides);
        var cells = split ? split.length : cellsFor(n);
        state.start = state.start % n;
        if (box.getAttribute("data-cells") !== String(cells)) {
            box.setAttribute("data-cells", String(cells));
            box.style.setProperty("--cells", String(cells));
        }
        // a screen narrower than 3:2 (7680x2160 as 3 or 4 screens) stacks its panels
        var shape = window.innerWidth / cells < 1.5 * window.innerHeight ? "narrow" : "wide";
        if (box.getAttribute("data-shape") !== shape) { box.setAttribute("data-shape", shape); }
        box.setAttribute("data-js", "1");
        var on = {};
        if (split) {
            // a stitched canvas: screen j shows its own playlist's current slide
            for (var sc = 0; sc < split.length; sc++) {
                var own = split[sc];
                if (own.length) { on[own[(state.starts[sc] || 0) % own.length]] = sc; }
            }
        } else {
            for (var j = 0; j < cells; j++) { on[(state.start + j) % n] = j; }
        }
        for (var i = 0; i < n; i++) {
            var s = slides[i];
            var flag = (i in on) ? "1" : "0";
            if (s.getAttribute("data-on") !== flag) { s.setAttribute("data-on", flag); }
            if (i in on) {
                var pos = String(on[i]);
                if (s.style.getPropertyValue("--pos") !== pos) { s.style.setProperty("--pos", pos); }
                declutter(s);
            }
        }
        var dots = document.querySelectorAll("#wall-dots .dot");
        for (var k = 0; k < dots.length; k++) {
            var d = (k in on) ? "1" : "0";
            if (dots[k].getAttribute("data-on") !== d) { dots[k].setAttribute("data-on", d); }
        }
        var stale = document.getElementById("wall-stale") ? "1" : "0";
        if (w.getAttribute("data-stale") !== stale) { w.setAttribute("data-stale", stale); }
    }

    /* The map's event markers sit at their compounds; one that would cover a
       community's name or another marker moves to the nearest free place (above or
       below first, then beside), inside the map. Measured once per slide content and
       canvas size, when the slide is on and the fonts are in. */
    function overlaps(a, b) {
        return a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
    }

    function declutter(slide) {
        var box = slide.querySelector(".mp-box");
        // sizes are final only once the fonts are in
        if (!box || (document.fonts && document.fonts.status !== "loaded")) { return; }
        var size = window.innerWidth + "x" + window.innerHeight;
        if (slide._mapHtml === slide._wallHtml && slide._mapSize === size) { return; }
        var points = box.querySelectorAll(".mp-point");
        for (var i = 0; i < points.length; i++) {
            var p = points[i];
            if (!p.hasAttribute("data-top")) {
                p.setAttribute("data-top", p.style.top);
                p.setAttribute("data-left", p.style.left);
            }
            p.style.top = p.getAttribute("data-top");
            p.style.left = p.getAttribute("data-left");
        }
        var b = box.getBoundingClientRect();
        if (!b.height) { return; }
        slide._mapHtml = slide._wallHtml;
        slide._mapSize = size;
        var taken = [];
        box.querySelectorAll(".mp-label").forEach(function (l) { taken.push(l.getBoundingClientRect()); });
        var rects = [];
        for (var j = 0; j < points.length; j++) { rects.push(points[j].getBoundingClientRect()); }
        for (var k = 0; k < points.length; k++) {
            var r = rects[k], h = r.bottom - r.top, w = r.right - r.left;
            // the nearest free place: straight up or down first, then beside, in the map
            var moves = [];
            for (var dy = -12; dy <= 12; dy++) {
                for (var dx = -1; dx <= 1; dx++) {
                    moves.push([dx * (w + 4), dy * (h + 2), Math.abs(dy) + 3 * Math.abs(dx)]);
                }
            }
            moves.sort(function (m1, m2) { return m1[2] - m2[2]; });
            var best = [0, 0];
            for (var n = 0; n < moves.length; n++) {
                var at = {left: r.left + moves[n][0], right: r.right + moves[n][0],
                          top: r.top + moves[n][1], bottom: r.bottom + moves[n][1]};
                if (at.top < b.top || at.bottom > b.bottom || at.left < b.left || at.right > b.right) { continue; }
                var free = true;
                for (var t = 0; t < taken.length && free; t++) { free = !overlaps(at, taken[t]); }
                if (free) { best = moves[n]; break; }
            }
            taken.push({left: r.left + best[0], right: r.right + best[0],
                        top: r.top + best[1], bottom: r.bottom + best[1]});
            var p0 = points[k];
            p0.style.top = (parseFloat(p0.getAttribute("data-top")) + 100 * best[1] / b.height).toFixed(2) + "%";
            p0.style.left = (parseFloat(p0.getAttribute("data-left")) + 100 * best[0] / b.width).toFixed(2) + "%";
        }
    }

    /* ?screens=: the indexes of each screen's slides, or null for one playlist */
    function byScreen(slides) {
        var w = wall();
        var screens = w ? parseInt(w.getAttribute("data-screens"), 10) || 0 : 0;
        if (!screens) { return null; }
        var out = [];
        for (var s = 0; s < screens; s++) { out.push([]); }
        for (var i = 0; i < slides.length; i++) {
            var sc = parseInt(slides[i].getAttribute("data-screen"), 10);
            if (sc >= 0 && sc < screens) { out[sc].push(i); }
        }
        return out;
    }

    function rotate(w, now) {
        var period = seconds(w, "data-rotate", 20) * 1000;
        var box = document.getElementById("wall-slides");
        if (!box || period <= 0) { return; }
        var split = byScreen(slidesOf(box));
        if (split) {
            if (now - state.shownAt >= period) {
                for (var sc = 0; sc < split.length; sc++) {
                    if (split[sc].length > 1) { state.starts[sc] = ((state.starts[sc] || 0) + 1) % split[sc].length; }
                }
                state.shownAt = now;
                state.rotations += 1;
            }
            return;
        }
        var n = slidesOf(box).length;
        var cells = cellsFor(n);
        if (n <= cells) { return; }
        if (now - state.shownAt >= period) {
            state.start = (state.start + cells) % n;
            state.shownAt = now;
            state.rotations += 1;
        }
    }

    function formatter(tz, lang) {
        var id = tz + "|" + lang;
        if (!formatters[id]) {
            formatters[id] = new Intl.DateTimeFormat("en-GB", {
                timeZone: tz, hour12: false, year: "numeric", month: "numeric",
                day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit",
                weekday: "short"
            });
        }
        return formatters[id];
    }

    var WEEK_ZH = {Mon: "星期一", Tue: "星期二", Wed: "星期三", Thu: "星期四",
                   Fri: "星期五", Sat: "星期六", Sun: "星期日"};
    var MONTH_EN = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep",
                    "Oct", "Nov", "Dec"];

    function clock(w) {
        var tz = w.getAttribute("data-tz") || "Asia/Shanghai";
        var lang = w.getAttribute("data-lang") || "zh";
        var p = {};
        var parts;
        try {
            parts = formatter(tz, lang).formatToParts(new Date());
        } catch (e) {
            parts = formatter("UTC", lang).formatToParts(new Date());
        }
        for (var i = 0; i < parts.length; i++) { p[parts[i].type] = parts[i].value; }
        var hh = p.hour === "24" ? "00" : p.hour;
        var time = hh + ":" + p.minute + ":" + p.second;
        var date = lang === "en"
            ? p.weekday + " " + p.day + " " + MONTH_EN[parseInt(p.month, 10) - 1]
            : p.month + "月" + p.day + "日 " + WEEK_ZH[p.weekday];
        if (time !== state.clockText) {
            var c = document.getElementById("wall-clock");
            if (c) { c.textContent = time; }
            state.clockText = time;
        }
        if (date !== state.dateText) {
            var d = document.getElementById("wall-date");
            if (d) { d.textContent = date; }
            state.dateText = date;
        }
    }

    function setOffline(w, offline) {
        if (state.offline !== offline) {
            state.offline = offline;
            w.setAttribute("data-offline", offline ? "1" : "0");
        }
    }

    function redraw(key) {
        var dc = window.dash_clientside;
        if (dc && typeof dc.set_props === "function") {
            state.key = key;
            state.redraws += 1;
            dc.set_props("wall-version", {data: key});
        }
    }

    function poll(w, now) {
        if (state.inFlight || now < state.nextPoll) { return; }
        var period = Math.max(seconds(w, "data-poll", 30), 0.05) * 1000;
        state.inFlight = true;
        state.polls += 1;
        fetch(VERSION_URL, {cache: "no-store"})
            .then(function (r) {
                if (!r.ok) { throw new Error("HTTP " + r.status); }
                return r.json();
            })
            .then(function (payload) {
                var cur = wall();
                if (!cur) { return; }
                setOffline(cur, false);
                if (state.key === null) { state.key = cur.getAttribute("data-version"); }
                if (payload && payload.key && payload.key !== state.key) { redraw(payload.key); }
            })
            .catch(function () {
                state.failures += 1;
                var cur = wall();
                if (cur) { setOffline(cur, true); }
            })
            .then(function () {
                state.inFlight = false;
                // while away, retry a little faster, but never hammer a restarting server
                var wait = state.offline ? Math.min(period, 5000) : period;
                state.nextPoll = Date.now() + wait;
            });
    }

    /* One timer for everything: every 250 ms, or faster when a test speeds the clock up
       (?poll= or ?rotate= under a quarter of a second). */
    function delay() {
        var w = wall();
        if (!w) { return TICK_MS; }
        var fastest = Math.min(seconds(w, "data-poll", 30) || 30,
                               seconds(w, "data-rotate", 20) || 20) * 1000;
        return Math.max(10, Math.min(TICK_MS, fastest));
    }

    function loop() {
        try { tick(); } finally { setTimeout(loop, delay()); }
    }

    function tick() {
        var w = wall();
        if (!w) { state.key = null; return; }
        var now = Date.now();
        if (!state.shownAt) { state.shownAt = now; state.nextPoll = now + 1000; }
        rotate(w, now);
        apply(w);
        clock(w);
        poll(w, now);
    }

    /* In-place updates: the server sends every slide as HTML (wall-html store,
       dashboards/_html.py). A slide element stays put (its place and opacity with it);
       only a slide whose HTML changed gets new content, one slide per animation frame,
       so no task grows with the size of the wall and the clock keeps ticking. */
    var pending = null;

    function fillStep() {
        var job = pending;
        if (!job) { return; }
        var box = document.getElementById("wall-slides");
        if (!box) { pending = null; return; }
        if (job.status !== undefined) {
            var st = document.getElementById("wall-status");
            if (st && st._wallHtml !== job.status) { st.innerHTML = job.status; st._wallHtml = job.status; }
            job.status = undefined;
        }
        var slides = job.slides || [];
        var have = slidesOf(box);
        for (var x = have.length - 1; x >= slides.length; x--) { box.removeChild(have[x]); }
        while (job.next < slides.length) {
            var i = job.next++;
            var spec = slides[i];
            var el = slidesOf(box)[i];
            if (!el) {
                el = document.createElement("section");
                box.appendChild(el);
            }
            for (var name in spec.attrs) {
                if (el.getAttribute(name) !== spec.attrs[name]) { el.setAttribute(name, spec.attrs[name]); }
            }
            if (el._wallHtml !== spec.html) {
                el.innerHTML = spec.html;
                el._wallHtml = spec.html;
                state.filled += 1;
                break;  // one slide's new content per frame
            }
        }
        if (job.next >= slides.length) {
            pending = null;
            apply(wall() || box);
            return;
        }
        requestAnimationFrame(fillStep);
    }

    window.dash_clientside = window.dash_clientside || {};
    window.dash_clientside.wall = {
        fill: function (payload) {
            if (payload && payload.slides) {
                var first = pending === null;
                pending = {slides: payload.slides, status: payload.status, next: 0};
                if (first) { requestAnimationFrame(fillStep); }
            }
            return window.dash_clientside.no_update;
        }
    };

    setTimeout(loop, TICK_MS);

    // Read-only counters for tests and an operator's console (polls, redraws, ...).
    window.wallDebug = {state: state};
})();
