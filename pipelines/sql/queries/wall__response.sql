-- Wall, closure view: this month's tickets (reported $month_start..$now): late responses
-- (answered more than $response_hours after the report, or unanswered at $now and older
-- than that), escalations (escalated_at set by $now), and satisfaction among the
-- tickets rated.
with month_tickets as (
    select
        reported_at,
        responded_at,
        escalated_at,
        satisfaction,
        reported_at + to_hours(cast($response_hours as bigint)) as response_due_at,
    from tickets
    where
        reported_at >= $month_start
        and reported_at <= $now
        and ($community is null or community = $community)
),

final as (
    select
        count(*) as reported_count,
        count(*) filter (
            where
                (responded_at is not null and responded_at <= $now
                    and responded_at > response_due_at)
                or ((responded_at is null or responded_at > $now)
                    and $now > response_due_at)
        ) as late_response_count,
        count(*) filter (
            where escalated_at is not null and escalated_at <= $now
        ) as escalated_count,
        count(*) filter (where satisfaction is not null) as rated_count,
        count(*) filter (where satisfaction = 'satisfied') as satisfied_count,
        round(
            100.0 * count(*) filter (where satisfaction = 'satisfied')
            / nullif(count(*) filter (where satisfaction is not null), 0),
            1
        ) as satisfaction_pct,
    from month_tickets
)

select * from final
