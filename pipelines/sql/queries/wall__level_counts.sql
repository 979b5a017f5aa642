-- Wall, levels view: tickets per level today, month to date, the same periods one year
-- earlier (up to the same time of day), and open now. One row per level 1-4, zeros
-- included. "Open" is judged at $now, so a pinned clock gives a repeatable picture.
with tickets_in_scope as (
    select
        level,
        reported_at,
        closed_at,
    from tickets
    where ($community is null or community = $community)
),

levels as (
    select cast(range as utinyint) as level from range(1, 5)
),

per_level as (
    select
        level,
        count(*) filter (
            where reported_at >= $today_start and reported_at <= $now
        ) as today_count,
        count(*) filter (
            where reported_at >= $month_start and reported_at <= $now
        ) as month_count,
        count(*) filter (
            where reported_at >= $ly_today_start and reported_at <= $ly_now
        ) as ly_today_count,
        count(*) filter (
            where reported_at >= $ly_month_start and reported_at <= $ly_now
        ) as ly_month_count,
        count(*) filter (
            where reported_at <= $now and (closed_at is null or closed_at > $now)
        ) as open_count,
    from tickets_in_scope
    group by level
),

final as (
    select
        levels.level,
        coalesce(per_level.today_count, 0) as today_count,
        coalesce(per_level.month_count, 0) as month_count,
        coalesce(per_level.ly_today_count, 0) as ly_today_count,
        coalesce(per_level.ly_month_count, 0) as ly_month_count,
        coalesce(per_level.open_count, 0) as open_count,
    from levels
    left join per_level on per_level.level = levels.level
)

select * from final
order by level
