-- Explorer: tickets reported in $date_from..$date_to per value of one dimension
-- (/*dimension*/ comes from the allow-list DIMENSIONS in pipelines/queries/explore.py),
-- with closure, on-time and satisfaction rates judged at $now (definitions as in
-- explore__summary). The caller drops the filter on the charted dimension itself, so a
-- chart keeps showing every value while the others are filtered. Largest first, at most
-- $limit values.
with filtered as (
    select
        /*dimension*/ as value,
        closed_at_asof(closed_at, $now) as is_closed,
        on_time_at_asof(closed_at, deadline_at, $now) as is_on_time,
        overdue_at_asof(closed_at, deadline_at, $now) as is_overdue,
        satisfaction,
    from tickets
    where
        reported_at >= $date_from
        and reported_at < $date_to + interval 1 day
        and /*filters*/
),

final as (
    select
        value,
        count(*) as reported_count,
        count(*) filter (where is_closed) as closed_count,
        count(*) filter (where is_on_time) as on_time_count,
        count(*) filter (where is_overdue) as overdue_count,
        count(*) filter (where satisfaction is not null) as rated_count,
        count(*) filter (where satisfaction = 'satisfied') as satisfied_count,
        rate_pct(closed_count, reported_count) as closure_pct,
        rate_pct(on_time_count, closed_count + overdue_count) as on_time_pct,
        rate_pct(satisfied_count, rated_count) as satisfaction_pct,
    from filtered
    group by value
)

select * from final
order by reported_count desc, value nulls last
limit $limit
