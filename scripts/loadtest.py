"""Serving under load: gunicorn (gunicorn.conf.py) on loopback, hammered by client threads.

    .venv/bin/python scripts/loadtest.py --tickets 1000000 [--seconds 15] [--clients 16]
    .venv/bin/python scripts/loadtest.py --db data/warehouse.duckdb

Builds a benchmark warehouse (benchmarks.generate) unless --db is given, starts gunicorn
with the production config on a free loopback port, and for each scenario runs
`--clients` threads for `--seconds`, each sending requests back to back. Prints requests
per second, p50/p95/max latency, failures and the server's CPU time per answer (gunicorn
and its workers, from /proc: Linux) per scenario as a markdown table.

Scenarios: a wall's version poll (what every wall sends every few seconds), a full wall
render (what a wall sends after a data change), the status page, the explorer's
tickets page, and the tickets page of a view (its first chart, summary and breakdown
come with it) four ways: every client asking for the same 90 days (all but the first
answers are cache hits), analysts varying the window and
community (8 windows x 5 community choices: each of the 40 views is computed once, then
served from the shared cache), the same 40 views asked a minute after each was first
asked (what each minute's first visitors cost), and every request a view not asked
before (a 90-day window one day earlier each time: no cache hits).

The client runs in this process, on the same cores as the server, and other work may
share them too: each row also says how much CPU the client itself spent per answer, how
much of the machine's CPU went to neither server nor client ("others", from /proc/stat)
and the load average, so a slow row can be told from a busy machine. The figures are a
floor, not a ceiling.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import itertools
import json
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipelines.settings import Settings, local_now  # noqa: E402
from tests.serving_helpers import pages_request, summary_request  # noqa: E402

SCENARIOS = {
    "wall version poll (GET /api/wall/version)": ("GET", "/api/wall/version", None),
    "wall full render (page callback /wall)": ("POST", "/_dash-update-component",
                                               pages_request("/wall")),
    "status page (page callback /)": ("POST", "/_dash-update-component", pages_request("/")),
    "explorer tickets page (page callback)": ("POST", "/_dash-update-component",
                                              pages_request("/explore/tickets")),
    # the four below are filled in by main() with the app's date and the warehouse's
    # communities; each is the ticket page of a view: its chart, KPIs and breakdown
    "explorer view (chart, KPIs, breakdown; last 90 days), the same request from all": None,
    "explorer views, analysts' windows x communities (40 views, cache hits)": None,
    "explorer views, analysts' views the minute after they were asked (40 views)": None,
    "explorer views, every request a new 90-day window (no cache hits)": None,
    "healthz": ("GET", "/healthz", None),
}


def analyst_windows(today: dt.date) -> list[tuple[dt.date, dt.date]]:
    """Dates an analyst picks: today, the last 7, 30 and 90 days, this and last month,
    this quarter, the year to date."""
    month = today.replace(day=1)
    last_month = (month - dt.timedelta(days=1)).replace(day=1)
    quarter = month.replace(month=(month.month - 1) // 3 * 3 + 1)
    return [(today, today), (today - dt.timedelta(days=6), today),
            (today - dt.timedelta(days=29), today), (today - dt.timedelta(days=89), today),
            (month, today), (last_month, month - dt.timedelta(days=1)), (quarter, today),
            (today.replace(month=1, day=1), today)]


def summary_mix(communities: list[str], today: dt.date, asof: dt.datetime | None = None):
    """Request k's body: the k-th of every (window, community or none) pair, in a fixed
    shuffled order, so concurrent clients ask for different views and come back to them
    (judged at `asof`, else the server's now)."""
    views = [(w, c) for w in analyst_windows(today) for c in [None, *communities]]
    order = sorted(range(len(views)), key=lambda i: (i * 7919) % len(views))
    at = asof.isoformat(timespec="minutes") if asof is not None else None

    def body(k: int) -> dict:
        (start, end), community = views[order[k % len(views)]]
        return summary_request(start.isoformat(), end.isoformat(),
                               {"community": [community]} if community else None, asof=at)

    return body, len(views)


def summary_unique(today: dt.date):
    """Request k's body: 90 days ending k + 1 days ago, never asked before in the run."""
    def body(k: int) -> dict:
        end = today - dt.timedelta(days=k + 1)
        return summary_request((end - dt.timedelta(days=90)).isoformat(), end.isoformat())

    return body


def warehouse_communities(db: Path, n: int) -> list[str]:
    """The `n` communities with the most tickets (the analysts' usual picks)."""
    from pipelines.warehouse import Reader

    con = Reader(db).cursor()
    try:
        return [c for (c,) in con.execute(
            "select community from tickets group by community order by count(*) desc, "
            "community limit $n", {"n": n}).fetchall()]
    finally:
        con.close()


def server_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by gunicorn (`pid`) and its workers, from
    Linux's /proc: the server's cost per answer, whatever else shares the machine.

    Workers that ended (gunicorn restarts one after `max_requests` answers) count too,
    through the master's cutime and cstime once it has reaped them; a worker ended but
    not yet reaped is missed until then."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended while we looked
            continue
        if int(stat.parent.name) == pid:
            ticks += sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
        elif int(fields[1]) == pid:
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def machine_cpu_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, every core, from Linux's
    /proc/stat: what the server and client took plus what everything else took."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    total = sum(fields[:8])  # user .. steal (guest time is already counted in user)
    return (total - idle) / os.sysconf("SC_CLK_TCK"), total / os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ask_each(port: int, path: str, body, n: int) -> None:
    """POST `body(0)` .. `body(n - 1)` one after another (a scenario's views, first asked)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        for k in range(n):
            conn.request("POST", path, body=json.dumps(body(k)).encode(),
                         headers={"Content-Type": "application/json"})
            r = conn.getresponse()
            r.read()
            if r.status != 200:
                raise RuntimeError(f"asking view {k} answered {r.status}")
    finally:
        conn.close()


def run_scenario(port: int, method: str, path: str, body, clients: int, seconds: float,
                 numbers=None):
    """`clients` threads sending requests back to back for `seconds`. `body` is a dict,
    None, or a function of the request's number (`numbers`, shared by the threads)."""
    fixed = None if callable(body) else json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"} if body is not None else {}
    numbers = numbers if numbers is not None else itertools.count()
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine, bad = [], []
        while time.monotonic() < stop:
            if callable(body):
                with lock:
                    k = next(numbers)
                payload = json.dumps(body(k)).encode()
            else:
                payload = fixed
            t = time.perf_counter()
            try:
                conn.request(method, path, body=payload, headers=headers)
                r = conn.getresponse()
                r.read()
                if r.status != 200:
                    bad.append(str(r.status))
            except (OSError, http.client.HTTPException) as e:
                bad.append(type(e).__name__)
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            mine.append(time.perf_counter() - t)
        with lock:
            latencies.extend(mine)
            failures.extend(bad)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    latencies.sort()
    p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000  # noqa: E731
    return {
        "requests": len(latencies),
        "rps": len(latencies) / elapsed,
        "p50_ms": p(0.50),
        "p95_ms": p(0.95),
        "max_ms": latencies[-1] * 1000 if latencies else 0,
        "mean_ms": statistics.fmean(latencies) * 1000 if latencies else 0,
        "failures": len(failures),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="serve this warehouse (default: build one)")
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=None, help="default: gunicorn.conf.py")
    parser.add_argument("--only", default="", help="run scenarios whose name contains this")
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="loadtest-"))
    db = args.db
    if db is None:
        from benchmarks.generate import build_warehouse

        db = workdir / "w.duckdb"
        settings = Settings(db_path=db, secret="loadtest", secret_file=workdir / "k")
        now = dt.datetime.now().replace(second=0, microsecond=0)
        t = time.perf_counter()
        build_warehouse(db, args.tickets, settings, now)
        print(f"built {args.tickets:,} tickets in {time.perf_counter() - t:.1f} s", flush=True)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("WALL_")}
    env.update(WALL_DB=str(db), WALL_SECRET=secrets.token_hex(32), PYTHONPATH=str(ROOT))
    cmd = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py",
           "-b", f"127.0.0.1:{port}", "--access-logfile", "/dev/null"]
    if args.workers:
        cmd += ["-w", str(args.workers)]
    server = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=open(workdir / "gunicorn.log", "wb"))
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                c.request("GET", "/healthz")
                c.getresponse().read()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    print((workdir / "gunicorn.log").read_text(), file=sys.stderr)
                    print(f"kept for a look: {workdir}", file=sys.stderr)
                    return 1
                time.sleep(0.3)
        what = f"{args.tickets:,} tickets" if args.db is None else str(db)
        print(f"\n{what}, {args.clients} clients x {args.seconds:g} s "
              f"per scenario, {os.cpu_count()} cores\n")
        print("| scenario | requests/s | p50 ms | p95 ms | max ms | failed "
              "| server CPU ms per answer | client CPU ms per answer "
              "| others' CPU share | load average |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        # the app's date (Asia/Shanghai), not the machine's: a window ending tomorrow for
        # the app would be a different view
        today = local_now(Settings()).date()
        communities = warehouse_communities(db, 4)
        mix, views = summary_mix(communities, today)
        # the same views judged at a pinned minute, then asked at the next one: what each
        # minute's first visitors cost. Minutes already past, so that no other scenario,
        # judged at the clock's minute, has asked for them before
        asked = local_now(Settings()).replace(second=0, microsecond=0) - dt.timedelta(
            minutes=10)
        mix_asked, _ = summary_mix(communities, today, asked)
        mix_next, _ = summary_mix(communities, today, asked + dt.timedelta(minutes=1))
        unique = summary_unique(today)
        scenarios = dict(SCENARIOS)
        for name in scenarios:
            if "the same request from all" in name:
                scenarios[name] = ("POST", "/_dash-update-component", summary_request(
                    (today - dt.timedelta(days=90)).isoformat(), today.isoformat()))
            elif "analysts' windows" in name:
                scenarios[name] = ("POST", "/_dash-update-component", mix)
                assert f"({views} views" in name, name
            elif "the minute after" in name:
                scenarios[name] = ("POST", "/_dash-update-component", mix_next)
            elif "no cache hits" in name:
                scenarios[name] = ("POST", "/_dash-update-component", unique)
        numbers = itertools.count()  # the unique windows' numbers run on across warm-ups
        for name, (method, path, body) in scenarios.items():
            if args.only not in name:
                continue
            # warm every worker (imports, first connection); a varying scenario warms
            # with views it will not ask for, so its cache hits are its own
            warm = (method, path, unique) if callable(body) else (method, path, body)
            run_scenario(port, *warm, 2, 2, numbers=numbers)
            if body is mix_next:  # every view asked once, a minute before
                ask_each(port, path, mix_asked, views)
            cpu, client = server_cpu_seconds(server.pid), time.process_time()
            busy, total = machine_cpu_seconds()
            r = run_scenario(port, method, path, body, args.clients, args.seconds,
                             numbers=numbers if body is unique else None)
            server_s = server_cpu_seconds(server.pid) - cpu
            client_s = time.process_time() - client
            busy2, total2 = machine_cpu_seconds()
            # the machine's CPU spent on neither the server nor this client, as a share
            # of all its cores' time during the scenario
            others = max(0.0, (busy2 - busy) - server_s - client_s) / max(total2 - total, 1e-9)
            answers = max(r["requests"], 1)
            print(f"| {name} | {r['rps']:.0f} | {r['p50_ms']:.0f} | {r['p95_ms']:.0f} | "
                  f"{r['max_ms']:.0f} | {r['failures']} | {server_s * 1000 / answers:.0f} | "
                  f"{client_s * 1000 / answers:.1f} | {others:.0%} | "
                  f"{os.getloadavg()[0]:.1f} |", flush=True)
    finally:
        server.terminate()
        server.wait(timeout=30)
    # the generated warehouse (about 1 GB at 10M tickets) and the server's log go with
    # a run that ended well; a failed start returned above and keeps them to read
    shutil.rmtree(workdir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
