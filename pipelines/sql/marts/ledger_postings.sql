-- depends on: ledger_entries, ledger_postings, ledger_publications
-- The ledger's journal: every change that load $load_id made to an entry, as a delta.
-- A new entry posts its amount; a changed entry posts new minus old (a move to another
-- compound or month reverses the old line and posts the new one). A change dated in a
-- month already published (ledger_publications) is an adjustment posted to the month of
-- the load ($today_month), so a published statement never changes afterwards.
with

entries as (select * from ledger_entries where load_id = $load_id),

current_lines as (
    select
        entry_id,
        compound,
        date_trunc('month', booked_on)::date as booked_month,
        case when direction = 'income' then amount_yuan else 0 end as income_yuan,
        case when direction = 'expense' then amount_yuan else 0 end as expense_yuan,
    from entries
),

posted_lines as (
    select
        entry_id,
        compound,
        booked_month,
        sum(income_yuan) as income_yuan,
        sum(expense_yuan) as expense_yuan,
    from ledger_postings
    where entry_id in (select entry_id from entries)
    group by all
),

deltas as (
    select
        coalesce(c.entry_id, p.entry_id) as entry_id,
        coalesce(c.compound, p.compound) as compound,
        coalesce(c.booked_month, p.booked_month) as booked_month,
        coalesce(c.income_yuan, 0) - coalesce(p.income_yuan, 0) as income_yuan,
        coalesce(c.expense_yuan, 0) - coalesce(p.expense_yuan, 0) as expense_yuan,
    from current_lines as c
    full outer join posted_lines as p
        on
            p.entry_id = c.entry_id
            and p.compound = c.compound
            and p.booked_month = c.booked_month
),

final as (
    select
        d.entry_id,
        d.compound,
        d.booked_month,
        case when pub.month is null then d.booked_month else $today_month end
            as posted_month,
        $today as posted_on,
        d.income_yuan,
        d.expense_yuan,
        pub.month is not null as is_adjustment,
        $load_id as load_id,
    from deltas as d
    left join ledger_publications as pub
        on pub.compound = d.compound and pub.month = d.booked_month
    where d.income_yuan <> 0 or d.expense_yuan <> 0
)

select * from final
