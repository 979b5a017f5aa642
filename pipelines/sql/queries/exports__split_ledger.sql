-- Split values for ledger_statement and ledger_entries: the compounds with a statement
-- month that overlaps the period, or the communities they belong to (compound_community).
-- $dimension is 'community' or 'compound' (checked against an allow-list in
-- queries/exports.py).
with found as (
    select distinct compound from ledger_monthly
    where
        month >= cast(date_trunc('month', $date_from) as date)
        and month <= $date_to
)

select distinct
    case $dimension when 'community' then c.community else f.compound end as value,
from found as f
left join compound_community as c on c.compound = f.compound
where value is not null
order by value
