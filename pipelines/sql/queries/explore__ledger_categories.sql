-- Explorer, accounts: income and expense per category over the statements in view
-- (compounds and months overlapping the period), from the journal so the categories
-- add up to the statements' income and expense (adjustments included, by the
-- category of the entry they change). Exact decimal(18,2).
-- each compound's community: the mode over its residents (mart compound_residents)
with compounds as (
    select compound, community, from compound_residents
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

lines as (
    select entry_id, 'income' as direction, income_yuan as amount_yuan from postings
    union all
    select entry_id, 'expense' as direction, expense_yuan as amount_yuan from postings
),

final as (
    select
        l.direction,
        coalesce(e.category, '未分类') as category,
        cast(sum(l.amount_yuan) as decimal(18, 2)) as amount_yuan,
        count(distinct l.entry_id) filter (where l.amount_yuan <> 0) as entry_count,
    from lines as l
    left join ledger_entries as e on e.entry_id = l.entry_id
    group by all
    having sum(l.amount_yuan) <> 0
)

select * from final
order by direction desc, amount_yuan desc, category
