-- Explorer: tickets reported in $date_from..$date_to per value of one dimension
-- (/*dimension*/ comes from the allow-list DIMENSIONS in pipelines/queries/explore.py),
-- with closure, on-time and satisfaction rates judged at $now (definitions as in
-- explore__summary). The caller drops the filter on the charted dimension itself, so a
-- chart keeps showing every value while the others are filtered. Largest first, at most
-- $limit values.
with filtered as (
    select
        /*dimension*/ as value,
        coalesce(closed_at <= $now, false) as is_closed,
        coalesce(closed_at <= $now and closed_at <= deadline_at, false) as is_on_time,
        (closed_at is null or closed_at > $now) and $now > deadline_at as is_overdue,
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
        round(100.0 * closed_count / nullif(reported_count, 0), 1) as closure_pct,
        round(100.0 * on_time_count / nullif(closed_count + overdue_count, 0), 1)
            as on_time_pct,
        round(100.0 * satisfied_count / nullif(rated_count, 0), 1) as satisfaction_pct,
    from filtered
    group by value
)

select * from final
order by reported_count desc, value nulls last
limit $limit
