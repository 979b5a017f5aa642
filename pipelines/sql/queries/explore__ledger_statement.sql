-- Explorer, accounts: each compound's monthly statement for every month overlapping
-- the period, from ledger_monthly, in exact decimal(18,2) (read through Arrow, never
-- floats): closing = opening + income - expense + adjustment, where adjustment is the
-- net of changes loaded this month to months already published.
-- each compound's community: mart compound_community (the one rule)
with compounds as (
    select compound, community, from compound_community
),

final as (
    select
        c.community,
        m.compound,
        m.month,
        m.opening_yuan,
        m.income_yuan,
        m.expense_yuan,
        m.adjustment_yuan,
        m.closing_yuan,
        m.entry_count,
        m.adjustment_count,
        m.is_published,
        m.published_on,
    from ledger_monthly as m
    left join compounds as c on c.compound = m.compound
    where
        m.month >= cast(date_trunc('month', $date_from) as date)
        and m.month <= $date_to
        and ($communities is null or list_contains($communities, c.community))
        and ($compounds is null or list_contains($compounds, m.compound))
)

select * from final
order by community nulls last, compound, month
