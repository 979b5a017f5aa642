-- Split values for vote_results: the compounds with a vote open at some moment of the
-- period, or the communities they belong to (compound_community). $dimension is
-- 'community' or 'compound' (checked against an allow-list in queries/exports.py).
with found as (
    select distinct compound from vote_results
    where opens_at < $date_to + interval 1 day and closes_at >= $date_from
)

select distinct
    case $dimension when 'community' then c.community else f.compound end as value,
from found as f
left join compound_community as c on c.compound = f.compound
where value is not null
order by value
