-- Wall, closure view: this month's tickets (reported $month_start..$now), read once and
-- counted three ways (grouping sets): per level, per community and in total. Judged at
-- $now:
--   closure rate = closed / reported;
--   on-time rate = closed by deadline_at / (closed + open past deadline_at), so tickets
--   still inside their time limit count for neither side. deadline_at comes from
--   sla_rule and dim_calendar (level 3 counts working days);
--   late responses (total only): answered more than $response_hours after the report,
--   or unanswered at $now and older than that; escalations: escalated_at set by $now;
--   satisfaction among the tickets rated.
-- grouping_set: 'level', 'community' or 'total'.
-- The tickets are counted once per (level, community), a few hundred cells, and the
-- grouping sets add those cells up: three aggregates over every ticket cost more.
with month_tickets as (
    select
        level,
        community,
        closed_at,
        deadline_at,
        responded_at,
        escalated_at,
        satisfaction,
        reported_at + to_hours(cast($response_hours as bigint)) as response_due_at,
    from tickets
    where
        in_window(reported_at, $month_start, $now)
        and ($community is null or community = $community)
),

flags as (
    select
        level,
        community,
        closed_at_asof(closed_at, $now) as is_closed,
        on_time_at_asof(closed_at, deadline_at, $now) as is_on_time,
        overdue_at_asof(closed_at, deadline_at, $now) as is_overdue,
        (responded_at is not null and responded_at <= $now
            and responded_at > response_due_at)
        or ((responded_at is null or responded_at > $now)
            and $now > response_due_at) as is_late_response,
        escalated_at is not null and escalated_at <= $now as is_escalated,
        satisfaction,
    from month_tickets
),

cells as (
    select
        level,
        community,
        count(*) as reported_count,
        count(*) filter (where is_closed) as closed_count,
        count(*) filter (where is_on_time) as on_time_count,
        count(*) filter (where is_overdue) as overdue_count,
        count(*) filter (where is_late_response) as late_response_count,
        count(*) filter (where is_escalated) as escalated_count,
        count(*) filter (where satisfaction is not null) as rated_count,
        count(*) filter (where satisfaction = 'satisfied') as satisfied_count,
    from flags
    group by level, community
),

counted as (
    -- coalesce: the total over no tickets is a row of zeros, as count(*) gives
    select
        case grouping(level, community)
            when 1 then 'level' when 2 then 'community' else 'total'
        end as grouping_set,
        level,
        community,
        cast(coalesce(sum(reported_count), 0) as bigint) as reported_count,
        cast(coalesce(sum(closed_count), 0) as bigint) as closed_count,
        cast(coalesce(sum(on_time_count), 0) as bigint) as on_time_count,
        cast(coalesce(sum(overdue_count), 0) as bigint) as overdue_count,
        cast(coalesce(sum(late_response_count), 0) as bigint) as late_response_count,
        cast(coalesce(sum(escalated_count), 0) as bigint) as escalated_count,
        cast(coalesce(sum(rated_count), 0) as bigint) as rated_count,
        cast(coalesce(sum(satisfied_count), 0) as bigint) as satisfied_count,
    from cells
    group by grouping sets ((level), (community), ())
),

final as (
    select
        grouping_set,
        level,
        community,
        reported_count,
        closed_count,
        on_time_count,
        overdue_count,
        closed_count + overdue_count as due_count,
        rate_pct(closed_count, reported_count) as closure_pct,
        rate_pct(on_time_count, closed_count + overdue_count) as on_time_pct,
        late_response_count,
        rate_pct(late_response_count, reported_count) as response_timeout_pct,
        escalated_count,
        rated_count,
        satisfied_count,
        rate_pct(satisfied_count, rated_count) as satisfaction_pct,
    from counted
)

select * from final
order by grouping_set, level, community
