    -- the tickets the marts cannot judge (`chosen`, explore_mart_tickets.sql), each judged
    -- at its period's as-of; columns as explore_mart_counts.sql's
    select
        period_order,
        cast(reported_at as date),
        1,
        cast(closed_at_asof(closed_at, as_of) as int),
        cast(on_time_at_asof(closed_at, deadline_at, as_of) as int),
        cast(coalesce(overdue_at_asof(closed_at, deadline_at, as_of), false) as int),
        cast(satisfaction is not null as int),
        cast(satisfaction = 'satisfied' as int),
    from chosen
