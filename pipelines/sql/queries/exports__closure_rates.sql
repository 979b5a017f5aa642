-- closure_rates: per community and level, tickets reported in the period (dates
-- inclusive) and how many of them were closed, closed on time and rated, as of $as_of.
-- Rates are exact decimals to 4 places, rounded half up with integer arithmetic (a
-- DECIMAL division would go through DOUBLE); null when the denominator is 0.
with tickets as (
    select * from tickets
    where
        reported_at >= $date_from
        and reported_at < $date_to + interval 1 day
        and ($community is null or community = $community)
        and ($compound is null or compound = $compound)
),

counted as (
    select
        community,
        level,
        count(*) as tickets,
        count(*) filter (where closed_at_asof(closed_at, $as_of)) as closed,
        -- on time iff closed_at <= deadline_at (the end of due_on)
        count(*) filter (
            where on_time_at_asof(closed_at, deadline_at, $as_of)
        ) as closed_on_time,
        -- still open after its deadline: already late, so it counts against on-time
        count(*) filter (
            where overdue_at_asof(closed_at, deadline_at, $as_of)
        ) as overdue,
        count(*) filter (where satisfaction is not null) as rated,
        count(*) filter (where satisfaction = 'satisfied') as satisfied,
    from tickets
    group by community, level
),

final as (
    select
        strftime($date_from, '%Y-%m-%d') || '/' || strftime($date_to, '%Y-%m-%d')
            as period,
        community,
        level,
        tickets,
        closed,
        closed_on_time,
        overdue,
        cast(cast((closed * 20000 // tickets + 1) // 2 as decimal(18, 0)) * 0.0001
            as decimal(9, 4)) as closure_rate,
        -- the wall's and explorer's definition: on time among tickets whose outcome is
        -- known (closed, or open past the deadline)
        cast(cast((closed_on_time * 20000 // nullif(closed + overdue, 0) + 1) // 2
            as decimal(18, 0)) * 0.0001 as decimal(9, 4)) as on_time_rate,
        rated,
        satisfied,
        cast(cast((satisfied * 20000 // nullif(rated, 0) + 1) // 2
            as decimal(18, 0)) * 0.0001 as decimal(9, 4)) as satisfaction_rate,
    from counted
)

select * from final
order by community, level
