-- Wall, levels view: tickets reported this month (to $now) per category, largest first.
with month_tickets as (
    select category
    from tickets
    where
        reported_at >= $month_start
        and reported_at <= $now
        and ($community is null or community = $community)
),

final as (
    select
        category,
        count(*) as ticket_count,
    from month_tickets
    group by category
)

select * from final
order by ticket_count desc, category
limit $limit
