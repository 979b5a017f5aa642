    -- period $p_order: whole days' tickets closed before the as-of's day
    select $p_order as period_order, close_hours, ticket_count,
    -- the mart and its pending rows (migration 0021): the figures are their sums
    from (from ticket_close_hours union all from ticket_close_hours_pending)
    where reported_on between $p_full_from and $p_full_to
        and closed_on < $p_day
        and /*mart_filters*/
