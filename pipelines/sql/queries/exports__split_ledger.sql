-- Split values for ledger_statement and ledger_entries: the compounds with a statement
-- month that overlaps the period, or the communities their residents live in.
-- $dimension is 'community' or 'compound' (checked against an allow-list in
-- queries/exports.py).
with found as (
    select distinct compound from ledger_monthly
    where
        month >= cast(date_trunc('month', $date_from) as date)
        and month <= $date_to
)

select distinct
    case $dimension when 'community' then r.community else f.compound end as value,
from found as f
left join residents as r on r.compound = f.compound
where value is not null
order by value
