-- Explorer ticket table: how many rows explore__ticket_rows has under the same filters.
select count(*) as row_count
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
