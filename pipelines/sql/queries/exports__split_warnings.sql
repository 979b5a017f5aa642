-- Split values for warnings: the communities (a warning's own, or its compound's, from
-- compound_community) or compounds of warnings active in the period. $dimension is 'community'
-- or 'compound' (checked against an allow-list in queries/exports.py).
with found as (
    select community, compound from warnings
    where
        first_seen_at < $date_to + interval 1 day
        and (resolved_at is null or resolved_at >= $date_from)
),

places as (
    select f.community, f.compound from found as f where f.community is not null
    union
    select c.community, f.compound
    from found as f
    inner join compound_community as c on c.compound = f.compound
)

select distinct
    case $dimension when 'community' then community else compound end as value,
from places
where value is not null
order by value
