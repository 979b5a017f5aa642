-- Wall, closure view: this month's tickets (reported $month_start..$now) per level and
-- in total (level null). Judged at $now:
--   closure rate = closed / reported;
--   on-time rate = closed by deadline_at / (closed + open past deadline_at), so tickets
--   still inside their time limit count for neither side. deadline_at comes from
--   sla_rule and dim_calendar (level 3 counts working days).
with month_tickets as (
    select
        level,
        closed_at,
        deadline_at,
        closed_at is not null and closed_at <= $now as is_closed,
    from tickets
    where
        reported_at >= $month_start
        and reported_at <= $now
        and ($community is null or community = $community)
),

flags as (
    select
        level,
        is_closed,
        is_closed and closed_at <= deadline_at as is_on_time,
        not is_closed and $now > deadline_at as is_overdue,
    from month_tickets
),

per_level as (
    select
        level,
        count(*) as reported_count,
        count(*) filter (where is_closed) as closed_count,
        count(*) filter (where is_on_time) as on_time_count,
        count(*) filter (where is_overdue) as overdue_count,
    from flags
    group by grouping sets ((level), ())
),

final as (
    select
        level,
        reported_count,
        closed_count,
        on_time_count,
        overdue_count,
        round(100.0 * closed_count / nullif(reported_count, 0), 1) as closure_pct,
        round(
            100.0 * on_time_count / nullif(closed_count + overdue_count, 0), 1
        ) as on_time_pct,
    from per_level
)

select * from final
order by level nulls first
