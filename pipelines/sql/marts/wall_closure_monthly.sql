-- depends on: tickets, ticket_deadlines
-- Closure counts per month of report and community, as they stand once settled (see
-- migration 0005): closed = closed_at set; on time = closed by deadline_at; overdue =
-- still open with a deadline. A ticket stops changing at its closure, or, while open, at
-- its deadline; settled_after is the latest such instant (or report) in the month.
with tickets_flagged as (
    select
        cast(date_trunc('month', reported_at) as date) as month,
        community,
        closed_at is not null as is_closed,
        closed_at <= deadline_at as is_by_deadline,
        closed_at is null and deadline_at is not null as is_overdue,
        greatest(
            reported_at, closed_at, case when closed_at is null then deadline_at end
        ) as settled_at,
    from tickets
    -- a tickets load recomputes only the months it changed (pipelines/derived.py); the
    -- range lets the scan skip row groups; all three null: every month
    where ($months is null or list_contains($months, cast(date_trunc('month', reported_at) as date)))
        and ($since is null or reported_at >= $since)
        and ($until is null or reported_at < $until)
),

per_community as (
    select
        month,
        community,
        count(*) as reported_count,
        count(*) filter (where is_closed) as closed_count,
        count(*) filter (where is_closed and is_by_deadline) as on_time_count,
        count(*) filter (where is_overdue) as overdue_count,
        max(settled_at) as settled_at,
    from tickets_flagged
    group by month, community
),

final as (
    select
        month,
        community,
        reported_count,
        closed_count,
        on_time_count,
        overdue_count,
        max(settled_at) over (partition by month) as settled_after,
    from per_community
)

select * from final
