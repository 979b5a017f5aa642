-- Wall, accounts view: each compound's statement for the month $month (income, expense,
-- adjustments and closing balance; closing = opening + income - expense + adjustment).
-- Money stays decimal(18,2).
with compounds as (
    select compound from compound_community
    where $community is null or community = $community
),

final as (
    select
        lm.compound,
        lm.opening_yuan,
        lm.income_yuan,
        lm.expense_yuan,
        lm.adjustment_yuan,
        lm.closing_yuan,
        lm.is_published,
    from ledger_monthly as lm
    where
        lm.month = $month
        and ($community is null or lm.compound in (select compound from compounds))
)

select * from final
order by compound
