-- Explorer, accounts: the lines behind one compound's statement of one month, read
-- from the journal (ledger_postings) so that they add up to the statement exactly:
-- the month's own entries (net of their postings in the month, as published) and the
-- adjustments posted to it (signed deltas to entries of months already published).
-- Sum of income lines = income, of expense lines = expense, adjusting income -
-- adjusting expense = adjustment. Descriptive columns are the entry's current values.
with postings as (
    select * from ledger_postings
    where compound = $compound and posted_month = $month
),

per_entry as (
    select
        entry_id,
        is_adjustment,
        cast(sum(income_yuan) as decimal(18, 2)) as income_yuan,
        cast(sum(expense_yuan) as decimal(18, 2)) as expense_yuan,
    from postings
    group by all
),

lines as (
    select entry_id, is_adjustment, 'income' as direction, income_yuan as amount_yuan,
    from per_entry
    where income_yuan <> 0
    union all
    select entry_id, is_adjustment, 'expense' as direction, expense_yuan as amount_yuan,
    from per_entry
    where expense_yuan <> 0
),

final as (
    select
        l.entry_id,
        e.booked_on,
        l.direction,
        e.category,
        l.amount_yuan,
        e.counterparty,
        e.voucher_no,
        e.note,
        l.is_adjustment,
    from lines as l
    left join ledger_entries as e on e.entry_id = l.entry_id
)

select * from final
order by is_adjustment, direction desc, booked_on, entry_id
