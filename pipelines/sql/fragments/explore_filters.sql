-- Explorer filter predicate, spliced by pipelines/queries/explore.py where a query says
-- /*filters*/ (constant text, never request text). Every list parameter is null when the
-- filter is off. Status is judged at $now:
--   closed  = closed_at <= $now
--   open    = not closed at $now
--   overdue = open at $now and $now > deadline_at
(
    ($communities is null or list_contains($communities, community))
    and ($grids is null or list_contains($grids, grid))
    and ($compounds is null or list_contains($compounds, compound))
    and ($categories is null or list_contains($categories, category))
    and ($levels is null or list_contains($levels, level))
    and ($sources is null or list_contains($sources, source))
    and ($handlers is null or list_contains($handlers, handler))
    and (
        $statuses is null
        or (list_contains($statuses, 'closed') and closed_at <= $now)
        or (
            list_contains($statuses, 'open')
            and (closed_at is null or closed_at > $now)
        )
        or (
            list_contains($statuses, 'overdue')
            and (closed_at is null or closed_at > $now)
            and $now > deadline_at
        )
    )
)
