-- severity: error
-- after loads of: ledger, ledger_balances
-- The journal (ledger_postings) sums to the entries as they stand, per entry, compound
-- and month: every change was posted exactly once.
with

entries as (
    select
        entry_id,
        compound,
        date_trunc('month', booked_on)::date as booked_month,
        sum(case when direction = 'income' then amount_yuan else 0 end) as income_yuan,
        sum(case when direction = 'expense' then amount_yuan else 0 end) as expense_yuan,
    from ledger_entries
    group by all
),

posted as (
    select
        entry_id,
        compound,
        booked_month,
        sum(income_yuan) as income_yuan,
        sum(expense_yuan) as expense_yuan,
    from ledger_postings
    group by all
),

final as (
    select
        coalesce(e.entry_id, p.entry_id) as entry_id,
        coalesce(e.compound, p.compound) as compound,
        coalesce(e.booked_month, p.booked_month) as booked_month,
        e.income_yuan as entry_income_yuan,
        p.income_yuan as posted_income_yuan,
        e.expense_yuan as entry_expense_yuan,
        p.expense_yuan as posted_expense_yuan,
    from entries as e
    full outer join posted as p
        on
            p.entry_id = e.entry_id
            and p.compound = e.compound
            and p.booked_month = e.booked_month
    where
        coalesce(e.income_yuan, 0) <> coalesce(p.income_yuan, 0)
        or coalesce(e.expense_yuan, 0) <> coalesce(p.expense_yuan, 0)
)

select * from final
