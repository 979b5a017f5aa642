-- The shared ideas behind every ticket figure, written once as macros stored in the
-- warehouse, so read-only connections (the app, exports, benchmarks) all use them. The
-- metric declarations in pipelines/metrics/catalog.py name these macros; a changed
-- definition is a new migration with `create or replace macro`.

-- A ticket is closed at `as_of` when its closure is recorded by then.
create or replace macro closed_at_asof(closed_at, as_of) as
    coalesce(closed_at <= as_of, false);

-- Open at `as_of`: not closed yet, or closed after `as_of` (a figure judged at an
-- earlier instant must not see later closures).
create or replace macro open_at_asof(closed_at, as_of) as
    (closed_at is null or closed_at > as_of);

-- Overdue at `as_of`: open then and past its deadline.
create or replace macro overdue_at_asof(closed_at, deadline_at, as_of) as
    (open_at_asof(closed_at, as_of) and as_of > deadline_at);

-- Closed by `as_of` and within its time limit / after it.
create or replace macro on_time_at_asof(closed_at, deadline_at, as_of) as
    coalesce(closed_at <= as_of and closed_at <= deadline_at, false);
create or replace macro closed_late_at_asof(closed_at, deadline_at, as_of) as
    coalesce(closed_at <= as_of and closed_at > deadline_at, false);

-- The period filter: a timestamp inside [start_at, end_at] (end_at inclusive, as a
-- to-date window ends at its data cut-off).
create or replace macro in_window(ts, start_at, end_at) as
    (ts >= start_at and ts <= end_at);

-- A percentage to one decimal; no denominator gives NULL (shown as "—"), never 0.
create or replace macro rate_pct(numerator, denominator) as
    round(100.0 * numerator / nullif(denominator, 0), 1);

-- Tickets open at `as_of` (reported by then). Two disjoint scans rather than one OR, so
-- zone maps skip the row groups without open tickets on a large, time-ordered table.
create or replace macro tickets_open_at(as_of) as table
    select * from tickets where closed_at is null and reported_at <= as_of
    union all
    select * from tickets where closed_at > as_of and reported_at <= as_of;
