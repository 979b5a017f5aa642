-- Wall, closure view: communities ranked by this month's on-time rate (definition as in
-- wall__closure_by_level), best first; communities with nothing due yet come last.
with month_tickets as (
    select
        community,
        closed_at is not null and closed_at <= $now as is_closed,
        closed_at,
        deadline_at,
    from tickets
    where
        reported_at >= $month_start
        and reported_at <= $now
        and ($community is null or community = $community)
),

per_community as (
    select
        community,
        count(*) filter (where is_closed and closed_at <= deadline_at) as on_time_count,
        count(*) filter (where is_closed) as closed_count,
        count(*) filter (where not is_closed and $now > deadline_at) as overdue_count,
    from month_tickets
    group by community
),

final as (
    select
        community,
        on_time_count,
        closed_count + overdue_count as due_count,
        overdue_count,
        round(
            100.0 * on_time_count / nullif(closed_count + overdue_count, 0), 1
        ) as on_time_pct,
    from per_community
)

select * from final
order by on_time_pct desc nulls last, community
limit $limit
