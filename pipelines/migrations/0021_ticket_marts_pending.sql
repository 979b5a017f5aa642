-- A load's changes to the summary marts of migration 0020, kept apart until they are
-- many. Finding a load's keys among the stored rows reads every key column of the mart
-- when its tickets span months (at 10M, 10.7M rows of ticket_close_hours: 0.14 s of a
-- 1.3 s update of 1,000 tickets, docs/benchmarks.md); appending the load's signed
-- differences costs milliseconds. pipelines/derived.py merges the pending rows into the
-- mart, the way a load's changes were merged before, once they reach
-- derived.PENDING_MERGE_ROWS, and empties them whenever it rebuilds the mart.
--
-- A key may have several rows across a mart and its pending table, some of them
-- negative: every figure is their sum (sql/fragments/explore_mart_*.sql read both).
-- Same columns and types as the marts they belong to.
drop table if exists ticket_summary_daily_pending;
create table ticket_summary_daily_pending as from ticket_summary_daily limit 0;

drop table if exists ticket_close_hours_pending;
create table ticket_close_hours_pending as from ticket_close_hours limit 0;
