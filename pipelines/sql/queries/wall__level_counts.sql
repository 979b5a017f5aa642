-- Wall, levels view: tickets per level today, month to date (to $now, the data cut-off),
-- the same spans one year earlier ($ly_*, to the same time of day), and open at $now. One row per level 1-4, zeros
-- included. "Open" is judged at $now, so a pinned clock gives a repeatable picture.
-- The two periods are read as two plain reported_at ranges (not one OR), so DuckDB's
-- zone maps skip the rest of a large, time-ordered table.
with levels as (
    select cast(range as utinyint) as level from range(1, 5)
),

this_month as (
    select
        level,
        count(*) filter (where reported_at >= $today_start) as today_count,
        count(*) as month_count,
    from tickets
    where
        reported_at >= $month_start
        and reported_at <= $now
        and ($community is null or community = $community)
    group by level
),

last_year as (
    select
        level,
        count(*) filter (where reported_at >= $ly_today_start) as ly_today_count,
        count(*) as ly_month_count,
    from tickets
    where
        reported_at >= $ly_month_start
        and reported_at <= $ly_now
        and ($community is null or community = $community)
    group by level
),

open_tickets as (
    select level
    from tickets_open_at($now)
    where $community is null or community = $community
),

open_now as (
    select
        level,
        count(*) as open_count,
    from open_tickets
    group by level
),

final as (
    select
        levels.level,
        coalesce(this_month.today_count, 0) as today_count,
        coalesce(this_month.month_count, 0) as month_count,
        coalesce(last_year.ly_today_count, 0) as ly_today_count,
        coalesce(last_year.ly_month_count, 0) as ly_month_count,
        coalesce(open_now.open_count, 0) as open_count,
    from levels
    left join this_month on this_month.level = levels.level
    left join last_year on last_year.level = levels.level
    left join open_now on open_now.level = levels.level
)

select * from final
order by level
