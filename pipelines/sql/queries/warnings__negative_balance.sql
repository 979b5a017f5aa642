-- negative_balance: per compound, the closing balance of its latest month up to
-- $as_of's month is below zero (exact decimals: -0.01 fires, 0.00 does not).
with latest as (
    select compound, max(month) as month
    from ledger_monthly
    where month <= date_trunc('month', $as_of::timestamp)
    group by compound
)

select
    null::varchar as community,
    null::varchar as grid,
    null::varchar as category,
    m.compound,
    null::varchar as vote_id,
    null::varchar as source,
    strftime(m.month, '%Y-%m') as subject,
    m.closing_yuan::decimal(18, 2) as observed,
    null::decimal(18, 2) as expected,
    0::decimal(18, 2) as threshold,
    m.month::timestamp as window_from,
    (m.month + interval 1 month)::timestamp as window_to,
from ledger_monthly as m
inner join latest as l on l.compound = m.compound and l.month = m.month
where m.closing_yuan < 0
order by m.compound
