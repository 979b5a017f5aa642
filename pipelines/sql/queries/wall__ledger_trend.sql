-- Wall, accounts view: income, expense and closing balance over all compounds (or one
-- community's), per month, the 12 months ending with $month.
with compounds as (
    select compound from compound_community
    where $community is null or community = $community
),

final as (
    select
        month,
        sum(income_yuan) as income_yuan,
        sum(expense_yuan) as expense_yuan,
        sum(closing_yuan) as closing_yuan,
    from ledger_monthly
    where
        month > $month - interval 12 month
        and month <= $month
        and ($community is null or compound in (select compound from compounds))
    group by month
)

select * from final
order by month
