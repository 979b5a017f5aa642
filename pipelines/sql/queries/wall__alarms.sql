-- Wall, alarm strip (every slide): the figures a duty officer must see at all times, at
-- the data cut-off $now and one hour earlier ($before), so that the view can tell a
-- threshold crossed in the last hour (it pulses) from one crossed long ago. Each figure
-- is its metric's expression (pipelines/metrics/catalog.py) over the same macros.
-- open at $now and at $before ($before < $now): the metrics layer's tickets_open_at at
-- each instant (both read the small open_tickets mart, migration 0019)
with open_now as (
    select
        count(*) filter (where level >= 3) as serious_open,
        count(*) filter (where $now > deadline_at) as overdue_open,
    from tickets_open_at($now)
),

open_before as (
    select
        count(*) filter (where level >= 3) as serious_open_before,
        count(*) filter (where $before > deadline_at) as overdue_open_before,
    from tickets_open_at($before)
),

-- this month's reports: today's count, the late-response rate now and an hour ago, and
-- the level-4 events reported within the last hour
month as (
    select
        count(*) filter (where reported_at >= $today_start) as reported_today,
        count(*) filter (where level = 4 and reported_at > $before) as level4_new,
        rate_pct(
            count(*) filter (
                where coalesce(responded_at <= $now, false)
                and responded_at > reported_at + to_hours(cast($response_hours as bigint))
                or open_at_asof(responded_at, $now)
                and $now > reported_at + to_hours(cast($response_hours as bigint))
            ),
            count(*)
        ) as response_timeout_pct,
        rate_pct(
            count(*) filter (
                where reported_at <= $before and (
                    coalesce(responded_at <= $before, false)
                    and responded_at > reported_at
                    + to_hours(cast($response_hours as bigint))
                    or open_at_asof(responded_at, $before)
                    and $before > reported_at + to_hours(cast($response_hours as bigint))
                )
            ),
            count(*) filter (where reported_at <= $before)
        ) as response_timeout_pct_before,
    from tickets
    where in_window(reported_at, $month_start, $now)
),

final as (
    select *
    from open_now
    cross join open_before
    cross join month
)

select * from final
