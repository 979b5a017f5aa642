    -- period $p_: one of its tickets closed or fell due between its two as-ofs
    -- (explore__summary_changes.sql)
    select 1
    from tickets
    where in_window(reported_at, $p_start, $p_end) and /*ticket_filters*/
        and closed_at > $p_since and closed_at <= $p_as_of
    union all
    select 1
    from tickets
    where in_window(reported_at, $p_start, $p_end) and /*ticket_filters*/
        and deadline_at >= $p_since and deadline_at < $p_as_of
