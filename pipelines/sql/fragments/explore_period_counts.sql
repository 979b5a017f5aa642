-- One compared period's KPIs, spliced by pipelines/queries/explore.py where
-- explore__summary says /*period_counts_at($x)*/ ($x: that period's as-of parameter;
-- constant text, never request text). Definitions are the metric layer's macros
-- (migration 0006): a ticket counts as closed, on time or overdue as it stood at $as_of;
-- closure rate = closed / reported; on-time rate = closed by deadline_at / (closed + open
-- past deadline_at); satisfaction = satisfied / rated; hours to close = closed_at -
-- reported_at.
    count(*) as reported_count,
    count(*) filter (where closed_at_asof(closed_at, $as_of)) as closed_count,
    count(*) filter (where on_time_at_asof(closed_at, deadline_at, $as_of)) as on_time_count,
    count(*) filter (where overdue_at_asof(closed_at, deadline_at, $as_of)) as overdue_count,
    count(satisfaction) as rated_count,
    count(*) filter (where satisfaction = 'satisfied') as satisfied_count,
    median(
        case when closed_at <= $as_of then epoch(closed_at - reported_at) / 3600.0 end
    ) as median_close_hours
