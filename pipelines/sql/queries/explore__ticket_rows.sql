-- Explorer ticket table (and its CSV): tickets reported in $date_from..$date_to under the
-- filters and the table's own column filters ($q_*: substring match, null = off), in the
-- order /*order_by*/ (allow-list SORTS in pipelines/queries/explore.py), rows
-- $offset..$offset + $limit ($limit null: all rows, for the streamed download).
with filtered as (
    select
        ticket_id,
        reported_at,
        level,
        category,
        community,
        grid,
        compound,
        source,
        handler,
        case
            when closed_at <= $now then 'closed'
            when $now > deadline_at then 'overdue'
            else 'open'
        end as status,
        deadline_at,
        closed_at,
        closed_at <= deadline_at as is_on_time,
        satisfaction,
        description,
    from tickets
    where
        reported_at >= $date_from
        and reported_at < $date_to + interval 1 day
        and /*filters*/
        and ($q_ticket_id is null or contains(ticket_id, $q_ticket_id))
        and ($q_category is null or contains(category, $q_category))
        and ($q_community is null or contains(community, $q_community))
        and ($q_grid is null or contains(grid, $q_grid))
        and ($q_compound is null or contains(compound, $q_compound))
        and ($q_description is null or contains(description, $q_description))
)

select * from filtered
order by /*order_by*/
limit $limit
offset $offset
