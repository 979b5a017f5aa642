-- Explorer, accounts: income and expense per category over the statements in view
-- (compounds and months overlapping the period), from the journal so the categories
-- add up to the statements' income and expense (adjustments included, by the
-- category of the entry they change). Exact decimal(18,2).
-- each compound's community: mart compound_community (the one rule)
with compounds as (
    select compound, community, from compound_community
),

postings as (
    select p.*
    from ledger_postings as p
    left join compounds as c on c.compound = p.compound
    where
        p.posted_month >= cast(date_trunc('month', $date_from) as date)
        and p.posted_month <= $date_to
        and ($communities is null or list_contains($communities, c.community))
        and ($compounds is null or list_contains($compounds, p.compound))
),

-- one join per posting, before it splits into an income and an expense line
categorised as (
    select
        p.entry_id,
        coalesce(e.category, '未分类') as category,
        p.income_yuan,
        p.expense_yuan,
    from postings as p
    left join ledger_entries as e on e.entry_id = p.entry_id
),

lines as (
    select entry_id, category, 'income' as direction, income_yuan as amount_yuan,
    from categorised
    union all
    select entry_id, category, 'expense' as direction, expense_yuan as amount_yuan,
    from categorised
),

final as (
    select
        direction,
        category,
        cast(sum(amount_yuan) as decimal(18, 2)) as amount_yuan,
        count(distinct entry_id) filter (where amount_yuan <> 0) as entry_count,
    from lines
    group by direction, category
    having sum(amount_yuan) <> 0
)

select * from final
order by direction desc, amount_yuan desc, category
