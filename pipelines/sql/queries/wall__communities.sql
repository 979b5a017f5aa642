-- Wall, levels view: communities ranked by tickets reported this month (to $now), with
-- the tickets open at $now.
with in_scope as (
    select
        community,
        reported_at,
        closed_at,
    from tickets
    where
        reported_at <= $now
        and ($community is null or community = $community)
        and (
            reported_at >= $month_start
            or closed_at is null
            or closed_at > $now
        )
),

final as (
    select
        community,
        count(*) filter (where reported_at >= $month_start) as month_count,
        count(*) filter (where closed_at is null or closed_at > $now) as open_count,
    from in_scope
    group by community
)

select * from final
order by month_count desc, community
limit $limit
