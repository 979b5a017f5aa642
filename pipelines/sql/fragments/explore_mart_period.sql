-- One compared period of explore__summary_mart, spliced there as /*mart_period(x)*/ with
-- `$p_` read as that period's parameter prefix (constant text, never request text).
-- The period is [$p_start, $p_end] judged at $p_as_of, which falls on day $p_day
-- ([$p_day_start, $p_day_stop)); its whole reported days are $p_full_from..$p_full_to
-- ([$p_full_start, $p_full_stop)), and the part of a day before or after them
-- [$p_start, $p_head_end] and [$p_tail_start, $p_end] (empty when the bounds cross).
-- Counted from the marts: tickets of whole days closed and due on other days than
-- $p_day, whose state at the as-of their days decide. From `tickets`, with the macros of
-- migration 0006 at $p_as_of: the rest (partial days, closed or due on $p_day).
with from_mart as (
    select
        sum(reported_count) as reported_count,
        sum(reported_count) filter (where closed_on < $p_day) as closed_count,
        sum(on_time_count) filter (where closed_on < $p_day) as on_time_count,
        sum(reported_count) filter (
            where (closed_on is null or closed_on > $p_day) and deadline_on < $p_day
        ) as overdue_count,
        sum(rated_count) as rated_count,
        sum(satisfied_count) as satisfied_count,
    from ticket_summary_daily
    where reported_on between $p_full_from and $p_full_to
        and closed_on is distinct from $p_day
        and deadline_on is distinct from $p_day
        and /*mart_filters*/
),

-- four disjoint range scans, so zone maps skip the rest of the table
from_tickets as (
    select reported_at, closed_at, deadline_at, satisfaction
    from tickets
    where in_window(reported_at, $p_start, $p_head_end) and /*mart_filters*/
    union all
    select reported_at, closed_at, deadline_at, satisfaction
    from tickets
    where in_window(reported_at, $p_tail_start, $p_end) and /*mart_filters*/
    union all
    select reported_at, closed_at, deadline_at, satisfaction
    from tickets
    where reported_at >= $p_full_start and reported_at < $p_full_stop
        and closed_at >= $p_day_start and closed_at < $p_day_stop
        and /*mart_filters*/
    union all
    select reported_at, closed_at, deadline_at, satisfaction
    from tickets
    where reported_at >= $p_full_start and reported_at < $p_full_stop
        and deadline_at >= $p_day_start and deadline_at < $p_day_stop
        and not coalesce(closed_at >= $p_day_start and closed_at < $p_day_stop, false)
        and /*mart_filters*/
),

counted_tickets as (
    select
        count(*) as reported_count,
        count(*) filter (where closed_at_asof(closed_at, $p_as_of)) as closed_count,
        count(*) filter (where on_time_at_asof(closed_at, deadline_at, $p_as_of))
            as on_time_count,
        count(*) filter (where overdue_at_asof(closed_at, deadline_at, $p_as_of))
            as overdue_count,
        count(satisfaction) as rated_count,
        count(*) filter (where satisfaction = 'satisfied') as satisfied_count,
    from from_tickets
),

-- hours to close of the tickets closed by the as-of, rounded as shown: whole days'
-- closed before $p_day from the mart, the others (partial days, closed on $p_day) here
hours as (
    select close_hours, ticket_count
    from ticket_close_hours
    where reported_on between $p_full_from and $p_full_to
        and closed_on < $p_day
        and /*mart_filters*/
    union all
    select round(epoch(closed_at - reported_at) / 3600.0, 1), 1
    from from_tickets
    where closed_at <= $p_as_of
        and (reported_at < $p_full_start or reported_at >= $p_full_stop
             or closed_at >= $p_day_start)
),

buckets as (
    select close_hours, sum(ticket_count) as ticket_count from hours group by close_hours
),

ranked as (
    select
        close_hours,
        sum(ticket_count) over (order by close_hours) as up_to,
        sum(ticket_count) over () as total,
    from buckets
),

-- the median is the middle ticket's hours (odd count) or the mean of the two middle
-- ones: the buckets of the tickets at 0-based ranks (n-1)//2 and n//2
middle as (
    select
        min(close_hours) filter (where up_to > (total - 1) // 2) as low_bucket,
        min(close_hours) filter (where up_to > total // 2) as high_bucket,
    from ranked
)

select
    cast(coalesce(m.reported_count, 0) + t.reported_count as bigint) as reported_count,
    cast(coalesce(m.closed_count, 0) + t.closed_count as bigint) as closed_count,
    cast(coalesce(m.on_time_count, 0) + t.on_time_count as bigint) as on_time_count,
    cast(coalesce(m.overdue_count, 0) + t.overdue_count as bigint) as overdue_count,
    cast(coalesce(m.rated_count, 0) + t.rated_count as bigint) as rated_count,
    cast(coalesce(m.satisfied_count, 0) + t.satisfied_count as bigint) as satisfied_count,
    middle.low_bucket,
    middle.high_bucket,
from from_mart as m, counted_tickets as t, middle
