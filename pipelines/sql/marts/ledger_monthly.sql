-- depends on: ledger_postings, ledger_openings
-- Monthly statement per compound, from the journal (ledger_postings) and the opening
-- balances. closing = opening + income - expense + adjustment; each month's opening is
-- the previous month's closing, by construction (a running sum of exact decimals).
-- The statement runs from the compound's opening month (else its first posting) to the
-- later of its last posting and the current month ($today_month), with empty months kept.
-- Postings before the opening month are left out and reported by
-- sql/checks/check_ledger_entries_before_opening.sql.
with

openings as (
    select
        compound,
        date_trunc('month', try_strptime(
            month, ['%Y-%m', '%Y-%m-%d', '%Y/%m', '%Y/%m/%d', '%Y年%m月', '%Y%m']
        ))::date as opening_month,
        opening_yuan,
    from ledger_openings
),

flows as (
    select
        compound,
        posted_month as month,
        coalesce(sum(income_yuan) filter (not is_adjustment), 0) as income_yuan,
        coalesce(sum(expense_yuan) filter (not is_adjustment), 0) as expense_yuan,
        coalesce(sum(income_yuan - expense_yuan) filter (is_adjustment), 0)
            as adjustment_yuan,
        count(*) filter (is_adjustment) as adjustment_count,
        count(distinct entry_id) filter (not is_adjustment) as entry_count,
    from ledger_postings
    group by all
),

bounds as (
    select
        coalesce(o.compound, f.compound) as compound,
        coalesce(any_value(o.opening_month), min(f.month)) as first_month,
        greatest(max(f.month), $today_month::date, any_value(o.opening_month))
            as last_month,
        coalesce(any_value(o.opening_yuan), 0) as base_yuan,
    from openings as o
    full outer join flows as f on f.compound = o.compound
    group by all
),

calendar as (
    select
        compound,
        base_yuan,
        unnest(generate_series(first_month, last_month, interval 1 month))::date
            as month,
    from bounds
),

lines as (
    select
        c.compound,
        c.month,
        c.base_yuan,
        coalesce(f.income_yuan, 0) as income_yuan,
        coalesce(f.expense_yuan, 0) as expense_yuan,
        coalesce(f.adjustment_yuan, 0) as adjustment_yuan,
        coalesce(f.adjustment_count, 0) as adjustment_count,
        coalesce(f.entry_count, 0) as entry_count,
        coalesce(f.income_yuan, 0) - coalesce(f.expense_yuan, 0)
        + coalesce(f.adjustment_yuan, 0) as net_yuan,
    from calendar as c
    left join flows as f on f.compound = c.compound and f.month = c.month
),

running as (
    select
        *,
        base_yuan + sum(net_yuan) over (
            partition by compound order by month rows unbounded preceding
        ) as closing_yuan,
    from lines
),

final as (
    select
        compound,
        month,
        closing_yuan - net_yuan as opening_yuan,
        income_yuan,
        expense_yuan,
        adjustment_yuan,
        adjustment_count,
        closing_yuan,
        entry_count,
        false as is_published,
        null::date as published_on,
    from running
)

select * from final
