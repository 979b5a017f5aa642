-- response_times: per community and level, for tickets reported in the period (dates
-- inclusive): median and 90th percentile hours from report to response and to closing
-- (linear interpolation, 2 places), responses later than $response_hours, tickets still
-- unanswered at $as_of although older than that, and escalations.
with tickets as (
    select * from tickets
    where
        reported_at >= $date_from
        and reported_at < $date_to + interval 1 day
        and ($community is null or community = $community)
        and ($compound is null or compound = $compound)
),

timed as (
    select
        community,
        level,
        case when responded_at <= $as_of
            then epoch(responded_at - reported_at) / 3600 end as respond_hours,
        case when closed_at <= $as_of
            then epoch(closed_at - reported_at) / 3600 end as close_hours,
        responded_at <= $as_of
            and responded_at - reported_at > to_hours($response_hours) as is_late,
        (responded_at is null or responded_at > $as_of)
            and $as_of - reported_at > to_hours($response_hours) as is_unanswered,
        escalated_at <= $as_of as is_escalated,
    from tickets
),

final as (
    select
        strftime($date_from, '%Y-%m-%d') || '/' || strftime($date_to, '%Y-%m-%d')
            as period,
        community,
        level,
        count(*) as tickets,
        cast(round(quantile_cont(respond_hours, 0.5), 2) as decimal(12, 2))
            as respond_median_hours,
        cast(round(quantile_cont(respond_hours, 0.9), 2) as decimal(12, 2))
            as respond_p90_hours,
        cast(round(quantile_cont(close_hours, 0.5), 2) as decimal(12, 2))
            as close_median_hours,
        cast(round(quantile_cont(close_hours, 0.9), 2) as decimal(12, 2))
            as close_p90_hours,
        count(*) filter (where is_late) as late_responses,
        count(*) filter (where is_unanswered) as unanswered_over_limit,
        count(*) filter (where is_escalated) as escalations,
    from timed
    group by community, level
)

select * from final
order by community, level
