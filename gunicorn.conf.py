"""Production serving: `.venv/bin/gunicorn -c gunicorn.conf.py` (see docs/operations.md).

Configuration of the app itself stays in WALL_* variables (pipelines/settings.py); this
file only says how gunicorn runs it. Any value here can be overridden on the command
line, e.g. `-b 0.0.0.0:8050 -w 4`.
"""

import multiprocessing

wsgi_app = "app:server"
bind = "127.0.0.1:8050"  # put nginx (TLS) in front, or pass -b 0.0.0.0:8050 on a closed LAN

# One DuckDB instance per worker (no preload: a DuckDB connection must not cross a fork).
# Each worker checks the warehouse file's identity on every request, so every worker
# serves a new load from the first request after its swap.
workers = min(4, multiprocessing.cpu_count() + 1)
worker_class = "gthread"  # threads: a slow explorer callback does not hold up wall polls
threads = 4
preload_app = False

timeout = 60  # a callback taking longer than this is a bug: the worker is restarted
graceful_timeout = 30
keepalive = 5

# Restart workers now and then, so weeks of unattended running cannot accumulate memory.
max_requests = 20000
max_requests_jitter = 2000

# gunicorn 27 opens a control socket in ~/.gunicorn/ that a second instance silently
# takes over; this app does not use it.
control_socket_disable = True



def post_worker_init(worker):
    """Finish Dash's set-up before the worker takes a request.

    Dash completes it on a worker's first request and marks it done before it has copied
    the callbacks in: with threads, a request arriving meanwhile found none ("Callback
    function not found for output 'explore-summary.children'", 2 answers of 2,000 in a
    16-client load test). One request served here, alone, completes it.
    """
    worker.wsgi.test_client().get("/healthz")


accesslog = "-"
# The request's path without its query string (%(U)s, not %(r)s or %(q)s), and no
# Referer: a query string can carry a wall token, and the log is read by many.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)ss "%(a)s"'
errorlog = "-"
loglevel = "info"
