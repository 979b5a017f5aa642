-- Explorer filter predicate, spliced by pipelines/queries/explore.py where a query says
-- /*filters*/ (constant text, never request text). Every list parameter is null when the
-- filter is off. Status is judged at $now (the metric layer's macros, migration 0006;
-- explore__summary judges each compared period at its own as-of instead):
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
        or (list_contains($statuses, 'closed') and closed_at_asof(closed_at, $now))
        or (list_contains($statuses, 'open') and open_at_asof(closed_at, $now))
        or (
            list_contains($statuses, 'overdue')
            and overdue_at_asof(closed_at, deadline_at, $now)
        )
    )
)
