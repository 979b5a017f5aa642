-- Explorer: tickets reported per $grain (day | week | month; weeks start on Monday) in
-- $date_from..$date_to, with closure and on-time rates judged at $now (definitions as in
-- explore__summary).
with filtered as (
    select
        date_trunc($grain, reported_at) as bucket,
        closed_at_asof(closed_at, $now) as is_closed,
        on_time_at_asof(closed_at, deadline_at, $now) as is_on_time,
        overdue_at_asof(closed_at, deadline_at, $now) as is_overdue,
    from tickets
    where
        reported_at >= $date_from
        and reported_at < $date_to + interval 1 day
        and /*filters*/
),

final as (
    select
        cast(bucket as date) as period_start,
        count(*) as reported_count,
        count(*) filter (where is_closed) as closed_count,
        count(*) filter (where is_on_time) as on_time_count,
        count(*) filter (where is_overdue) as overdue_count,
        rate_pct(closed_count, reported_count) as closure_pct,
        rate_pct(on_time_count, closed_count + overdue_count) as on_time_pct,
    from filtered
    group by bucket
)

select * from final
order by period_start
