-- expense_spike: per compound, the latest month up to $as_of's month with a statement;
-- its expense against the median expense of the 12 months before it (at least
-- $min_months of them). Fires when expense > $factor x median and the median is above 0.
with months as (
    select compound, month, expense_yuan
    from ledger_monthly
    where month <= date_trunc('month', $as_of::timestamp)
),

latest as (
    select compound, max(month) as month from months group by compound
),

history as (
    select
        l.compound,
        l.month,
        median(m.expense_yuan) as median_yuan,
        count(*) as months_count,
    from latest as l
    inner join months as m
        on m.compound = l.compound
        and m.month < l.month
        and m.month >= l.month - interval 12 month
    group by l.compound, l.month
)

select
    null::varchar as community,
    null::varchar as grid,
    null::varchar as category,
    h.compound,
    null::varchar as vote_id,
    null::varchar as source,
    strftime(h.month, '%Y-%m') as subject,
    m.expense_yuan::decimal(18, 2) as observed,
    cast(h.median_yuan as decimal(18, 2)) as expected,
    cast(h.median_yuan * cast($factor as decimal(9, 4)) as decimal(18, 2)) as threshold,
    h.month::timestamp as window_from,
    (h.month + interval 1 month)::timestamp as window_to,
from history as h
inner join months as m on m.compound = h.compound and m.month = h.month
where
    h.months_count >= $min_months
    and h.median_yuan > 0
    and m.expense_yuan > h.median_yuan * cast($factor as decimal(9, 4))
order by h.compound
