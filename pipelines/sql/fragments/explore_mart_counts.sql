    -- period $p_order: whole days' tickets closed and due on other days than the
    -- as-of's ($p_day): closed by it when closed before that day, overdue when open
    -- after it and due before it
    select
        $p_order as period_order,
        reported_on,
        reported_count,
        case when closed_on < $p_day then reported_count else 0 end as closed_count,
        case when closed_on < $p_day then on_time_count else 0 end as on_time_count,
        case
            when (closed_on is null or closed_on > $p_day) and deadline_on < $p_day
                then reported_count
            else 0
        end as overdue_count,
        rated_count,
        satisfied_count,
    -- the mart and its pending rows (migration 0021): the figures are their sums
    from (from ticket_summary_daily union all from ticket_summary_daily_pending)
    where rollup = $rollup
        and reported_on between $p_full_from and $p_full_to
        and closed_on is distinct from $p_day
        and deadline_on is distinct from $p_day
        and /*mart_filters*/
