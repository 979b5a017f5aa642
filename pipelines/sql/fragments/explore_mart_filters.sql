-- The summary filters the marts of migration 0020 hold (community, category, level),
-- spliced by pipelines/queries/explore.py where explore__summary_mart says
-- /*mart_filters*/; a list parameter is null when its filter is off. A summary with any
-- other filter is counted from the tickets (explore__summary.sql).
(
    ($communities is null or list_contains($communities, community))
    and ($categories is null or list_contains($categories, category))
    and ($levels is null or list_contains($levels, level))
)
