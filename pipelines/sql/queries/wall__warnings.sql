-- Wall, warnings slide: early warnings still holding (new or ongoing), most severe first,
-- then the newest first (as /explore/warnings). A warning scoped to a compound (vote,
-- ledger) is placed in its compound's community (compound_community); $community
-- (null: all) keeps that community's warnings, and drops those with no place (a stale
-- source), which concern the whole sub-district. At most $limit rows, each with the
-- counts of all active warnings in scope, per severity.
with active as (
    select
        w.*,
        coalesce(w.community, cc.community) as place,
    from warnings as w
    left join compound_community as cc on cc.compound = w.compound
    where
        w.status <> 'resolved'
        and ($community is null or coalesce(w.community, cc.community) = $community)
)

select
    warning_id,
    kind,
    rule_id,
    severity,
    status,
    place as community,
    grid,
    category,
    compound,
    source,
    subject,
    title,
    observed,
    expected,
    usual_low,
    usual_high,
    threshold,
    unit,
    first_seen_at,
    count(*) over () as active_count,
    count(*) filter (where severity = 'critical') over () as critical_count,
    count(*) filter (where severity = 'high') over () as high_count,
    count(*) filter (where severity = 'medium') over () as medium_count,
from active
order by
    case severity when 'critical' then 0 when 'high' then 1 else 2 end,
    first_seen_at desc,
    warning_id
limit $limit
