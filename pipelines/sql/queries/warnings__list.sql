-- The explorer's warnings (/explore/warnings): every warning active at some moment of
-- $date_from..$date_to (first seen by its last day, not resolved before its first),
-- filtered by status, severity, kind and community (empty list = no filter), most
-- severe first, then the newest first. At most $max_rows rows.
select
    warning_id,
    kind,
    rule_id,
    severity,
    status,
    community,
    grid,
    category,
    compound,
    vote_id,
    source,
    subject,
    title,
    observed,
    expected,
    usual_low,
    usual_high,
    threshold,
    unit,
    window_from,
    window_to,
    first_seen_at,
    last_seen_at,
    resolved_at,
    definition,
from warnings
where
    first_seen_at < $date_to + interval 1 day
    and (resolved_at is null or resolved_at >= $date_from)
    and (len($statuses) = 0 or list_contains($statuses, status))
    and (len($severities) = 0 or list_contains($severities, severity))
    and (len($kinds) = 0 or list_contains($kinds, kind))
    and (len($communities) = 0 or list_contains($communities, community))
order by
    case severity when 'critical' then 0 when 'high' then 1 else 2 end,
    status = 'resolved',
    first_seen_at desc,
    warning_id
limit $max_rows
