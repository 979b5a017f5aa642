"""The Lighthouse harness's thread-time blocking (benchmarks/lighthouse.thread_blocking):
Total Blocking Time's rule applied to the CPU time of the page's own main-thread tasks,
so a busy machine's waiting does not count and other threads' tasks are left out."""

from benchmarks.lighthouse import thread_blocking

PAGE, OTHER = (10, 10), (20, 20)  # (pid, tid) of the page's renderer and another tab's


def _thread(who, name="CrRendererMain"):
    return {"name": "thread_name", "ph": "M", "pid": who[0], "tid": who[1],
            "args": {"name": name}}


def _task(who, start_ms, wall_ms, cpu_ms):
    return {"name": "RunTask", "ph": "X", "pid": who[0], "tid": who[1],
            "ts": start_ms * 1000, "dur": wall_ms * 1000, "tdur": cpu_ms * 1000}


def test_blocking_counts_cpu_time_past_50_ms_of_the_page_tasks_only():
    events = [
        _thread(PAGE), _thread(OTHER), _thread((10, 11), "Compositor"),
        # the page: a task that waited for a core (wall 400 ms, CPU 120 ms), one
        # under 50 ms, one just over
        _task(PAGE, 0, 400, 120), _task(PAGE, 500, 45, 40), _task(PAGE, 600, 70, 60),
        # a task run inside the first (a nested loop) is part of it, not another one
        _task(PAGE, 100, 200, 90),
        # another tab's renderer, with less task time, and a compositor thread
        _task(OTHER, 0, 90, 90), _task((10, 11), 0, 500, 500),
    ]
    got = thread_blocking(events)
    assert got["blocking_ms"] == (120 - 50) + (60 - 50)
    assert got["main_ms"] == 120 + 40 + 60
    assert got["long_tasks"] == [120, 60]
