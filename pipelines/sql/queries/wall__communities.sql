-- Wall, levels view: communities ranked by tickets reported this month (to $now), with
-- the tickets open at $now (the metrics layer's tickets_open_at). Two reads (a
-- reported_at range, then the open tickets) rather than one OR over a large table.
with this_month as (
    select
        community,
        count(*) as month_count,
    from tickets
    where
        reported_at >= $month_start
        and reported_at <= $now
        and ($community is null or community = $community)
    group by community
),

open_tickets as (
    select community
    from tickets_open_at($now)
    where $community is null or community = $community
),

open_now as (
    select
        community,
        count(*) as open_count,
    from open_tickets
    group by community
),

final as (
    select
        coalesce(this_month.community, open_now.community) as community,
        coalesce(this_month.month_count, 0) as month_count,
        coalesce(open_now.open_count, 0) as open_count,
    from this_month
    full outer join open_now on open_now.community = this_month.community
)

select * from final
order by month_count desc, community
limit $limit
