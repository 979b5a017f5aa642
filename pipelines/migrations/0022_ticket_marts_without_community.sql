-- The summary marts of migration 0020 lose their community: no summary or trend ever
-- read them with a community filter (those count the tickets, pipelines/queries/
-- explore.py), yet the finest rows, per community, category and level, were most of
-- each mart (at 10M, 8.4M of ticket_close_hours' 10.7M rows) and most of a first load's
-- cost of building it. The finest rows are now per category and level, which a summary
-- filtered by both reads.
--
-- ticket_summary_daily keeps its rollups: `rollup` is grouping(category, level), 0 per
-- category and level, 1 per category, 2 per level, 3 all tickets. ticket_close_hours
-- has its finest rows only: hours to close at 0.1 h make its rows per category, per
-- level or in total nearly as many as per both (at 1.09M tickets, 0.60M rollup rows
-- for 0.33M finest ones), and building them cost a first load 0.08 s for 1-2 ms less
-- per summary at 10M (docs/benchmarks.md).
--
-- Both are rebuilt from the tickets (warehouse.BACKFILL); the pending rows of
-- migration 0021 go with their marts.
drop table if exists ticket_summary_daily;
create table ticket_summary_daily (
    rollup utinyint not null,
    reported_on date not null,
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
    reported_on date not null,
    category varchar,
    level utinyint,
    closed_on date not null,
    close_hours double not null,          -- round(hours from report to closure, 1)
    ticket_count bigint not null
);

drop table if exists ticket_summary_daily_pending;
create table ticket_summary_daily_pending as from ticket_summary_daily limit 0;

drop table if exists ticket_close_hours_pending;
create table ticket_close_hours_pending as from ticket_close_hours limit 0;
