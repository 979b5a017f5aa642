-- severity: error
-- after loads of: ledger, ledger_balances
-- Reconciliation: each month's closing is the next month's opening, and no month is
-- missing between a compound's first and last statement month. Returns every break.
with

statement as (
    select
        compound,
        month,
        closing_yuan,
        lead(month) over (partition by compound order by month) as next_month,
        lead(opening_yuan) over (partition by compound order by month) as next_opening_yuan,
    from ledger_monthly
),

final as (
    select
        compound,
        month,
        closing_yuan,
        next_month,
        next_opening_yuan,
        case
            when next_month <> month + interval 1 month then 'month(s) missing'
            else 'closing differs from next opening'
        end as problem,
    from statement
    where
        next_month is not null
        and (
            next_month <> month + interval 1 month
            or next_opening_yuan <> closing_yuan
        )
)

select * from final
