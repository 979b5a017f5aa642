    -- period $p_order: the tickets the marts cannot judge, in four disjoint range
    -- scans (zone maps skip the rest of the table): reported on a partial day
    -- ([$p_start, $p_head_end], [$p_tail_start, $p_end]), or on a whole day
    -- ([$p_full_start, $p_full_stop)) and closed or due on the as-of's day
    -- ([$p_day_start, $p_day_stop))
    select $p_order as period_order, $p_as_of as as_of, $p_full_start as full_start,
        $p_full_stop as full_stop, $p_day_start as day_start,
        reported_at, closed_at, deadline_at, satisfaction,
    from tickets
    where in_window(reported_at, $p_start, $p_head_end) and /*mart_filters*/
    union all
    select $p_order, $p_as_of, $p_full_start, $p_full_stop, $p_day_start,
        reported_at, closed_at, deadline_at, satisfaction,
    from tickets
    where in_window(reported_at, $p_tail_start, $p_end) and /*mart_filters*/
    union all
    select $p_order, $p_as_of, $p_full_start, $p_full_stop, $p_day_start,
        reported_at, closed_at, deadline_at, satisfaction,
    from tickets
    where reported_at >= $p_full_start and reported_at < $p_full_stop
        and closed_at >= $p_day_start and closed_at < $p_day_stop
        and /*mart_filters*/
    union all
    select $p_order, $p_as_of, $p_full_start, $p_full_stop, $p_day_start,
        reported_at, closed_at, deadline_at, satisfaction,
    from tickets
    where reported_at >= $p_full_start and reported_at < $p_full_stop
        and deadline_at >= $p_day_start and deadline_at < $p_day_stop
        and not coalesce(closed_at >= $p_day_start and closed_at < $p_day_stop, false)
        and /*mart_filters*/
