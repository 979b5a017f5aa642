-- incident_levels: tickets reported in the period (dates inclusive) per community,
-- category and level.
with tickets as (
    select * from tickets
    where
        reported_at >= $date_from
        and reported_at < $date_to + interval 1 day
        and ($community is null or community = $community)
        and ($compound is null or compound = $compound)
),

final as (
    select
        strftime($date_from, '%Y-%m-%d') || '/' || strftime($date_to, '%Y-%m-%d')
            as period,
        community,
        category,
        level,
        count(*) as tickets,
    from tickets
    group by community, category, level
)

select * from final
order by community, category, level
