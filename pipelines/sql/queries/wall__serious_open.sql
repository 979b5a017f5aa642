-- Wall, levels view: open level-3 and level-4 events at $now, newest report first (as
-- captioned: today's new events are on top whatever their level; the level is on each
-- row); serious_count is the number of such events before the limit.
with serious as (
    select
        ticket_id,
        reported_at,
        level,
        community,
        category,
        deadline_at,
    from tickets_open_at($now)
    where
        level >= 3
        and ($community is null or community = $community)
),

final as (
    select
        ticket_id,
        reported_at,
        level,
        community,
        category,
        deadline_at,
        coalesce($now > deadline_at, false) as is_overdue,
        count(*) over () as serious_count,
    from serious
)

select * from final
order by reported_at desc, level desc, ticket_id
limit $limit
