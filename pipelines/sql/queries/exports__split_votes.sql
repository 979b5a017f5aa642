-- Split values for vote_results: the compounds with a vote open at some moment of the
-- period, or the communities their residents live in. $dimension is 'community' or
-- 'compound' (checked against an allow-list in queries/exports.py).
with found as (
    select distinct compound from vote_results
    where opens_at < $date_to + interval 1 day and closes_at >= $date_from
)

select distinct
    case $dimension when 'community' then r.community else f.compound end as value,
from found as f
left join residents as r on r.compound = f.compound
where value is not null
order by value
