-- The explorer summary's counts without reading every ticket of its windows (at 10M,
-- 3.7M tickets and ~300 ms of CPU for a 90-day summary; docs/benchmarks.md).
--
-- Both tables are keyed by the day a ticket was reported, its community, category and
-- level (the summary's filters), the day it was closed (null: open) and, for the counts,
-- the day of its deadline: a figure judged at an as-of on day D is exact from these rows
-- for every ticket closed and due on days other than D (closed before D: closed by the
-- as-of; closed after D or open: not), and the summary reads the few tickets closed or
-- due on D, and those of a window's partial days, from `tickets`
-- (sql/queries/explore__summary_mart.sql, docs/explorer.md).
--
-- ticket_close_hours counts closed tickets per hours to close rounded to 0.1 h, the
-- precision the summary shows: the rounded median is read from the counts exactly when
-- its middle ticket(s) fall in one such bucket, and the summary is computed from the
-- tickets otherwise.
--
-- Each key is counted at four grains (`rollup`, the value of grouping(community, category,
-- level): 0 per community, category and level; 5 per category; 6 per level; 7 all
-- tickets, the others null), so that a summary with no filter, or categories or levels
-- only, reads a fraction of the rows (at 10M, 90 days unfiltered: 65k rows of hours
-- instead of 1M). Per community alone they were nearly as many rows as tickets, no
-- cheaper to read than the tickets a community filter selects: those summaries are
-- counted from the tickets (pipelines/queries/explore.py). Rows are stored by rollup,
-- then day.
--
-- Kept up to date by every tickets load for the tickets it adds or replaces
-- (pipelines/derived.py), rebuilt whole when every deadline is recomputed.
drop table if exists ticket_summary_daily;
create table ticket_summary_daily (
    rollup utinyint not null,
    reported_on date not null,
    community varchar,
    category varchar,
    level utinyint,
    closed_on date,
    deadline_on date,
    reported_count bigint not null,
    on_time_count bigint not null,        -- closed_at <= deadline_at
    rated_count bigint not null,          -- satisfaction given
    satisfied_count bigint not null       -- satisfaction = 'satisfied'
);

drop table if exists ticket_close_hours;
create table ticket_close_hours (
    rollup utinyint not null,
    reported_on date not null,
    community varchar,
    category varchar,
    level utinyint,
    closed_on date not null,
    close_hours double not null,          -- round(hours from report to closure, 1)
    ticket_count bigint not null
);
