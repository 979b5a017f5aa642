-- Explorer: hours from report to closure per level, tickets reported in
-- $date_from..$date_to and closed by $now: median and 90th percentile (continuous
-- quantiles), and how many tickets they are computed over.
with closed as (
    select
        level,
        epoch(closed_at - reported_at) / 3600.0 as close_hours,
    from tickets
    where
        reported_at >= $date_from
        and reported_at < $date_to + interval 1 day
        and closed_at <= $now
        and /*filters*/
),

final as (
    select
        level,
        count(*) as closed_count,
        round(quantile_cont(close_hours, 0.5), 1) as median_close_hours,
        round(quantile_cont(close_hours, 0.9), 1) as p90_close_hours,
    from closed
    group by level
)

select * from final
order by level
