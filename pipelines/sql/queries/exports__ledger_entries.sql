-- ledger_entries: the lines behind each compound's statement of every month that overlaps
-- the period (dates inclusive), read from the journal (ledger_postings) so that they add
-- up to ledger_statement exactly:
--   * the month's own entries (is_adjustment false): per entry the net of its postings
--     booked in the month before publication, i.e. the amount as published;
--   * adjustments (is_adjustment true): changes loaded during the month to entries of
--     months already published, as signed deltas (a lowered amount is negative).
-- Per compound and month: sum of income lines = income, of expense lines = expense, and
-- adjusting income - adjusting expense = adjustment. Descriptive columns (booked_on,
-- category, counterparty, voucher_no, note; counterparty and note masked by the loader)
-- are the entry's current values.
with compounds as (
    select compound from compound_community where community = $community
),

postings as (
    select * from ledger_postings
    where
        posted_month >= cast(date_trunc('month', $date_from) as date)
        and posted_month <= $date_to
        and ($compound is null or compound = $compound)
        and ($community is null or compound in (select compound from compounds))
),

per_entry as (
    select
        compound,
        posted_month,
        entry_id,
        is_adjustment,
        cast(sum(income_yuan) as decimal(18, 2)) as income_yuan,
        cast(sum(expense_yuan) as decimal(18, 2)) as expense_yuan,
    from postings
    group by all
),

lines as (
    select *, 'income' as direction, income_yuan as amount_yuan from per_entry
    where income_yuan <> 0
    union all by name
    select *, 'expense' as direction, expense_yuan as amount_yuan from per_entry
    where expense_yuan <> 0
),

final as (
    select
        strftime(l.posted_month, '%Y-%m') as month,
        l.compound,
        l.entry_id,
        e.booked_on,
        l.direction,
        e.category,
        l.amount_yuan as amount,
        e.counterparty,
        e.voucher_no,
        e.note,
        l.is_adjustment,
    from lines as l
    left join ledger_entries as e on e.entry_id = l.entry_id
)

select * from final
order by month, compound, is_adjustment, booked_on, entry_id, direction
