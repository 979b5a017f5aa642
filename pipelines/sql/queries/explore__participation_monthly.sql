-- Explorer, participation: household participation rate per compound and month, for
-- every month overlapping the period (from participation_monthly: households with any
-- ballot or engagement event that month / households of the compound in residents).
-- Compounds filtered by community (compound_community: declared, else where most
-- residents live) and by compound; the vote filters (matter, state) do not apply here.
with compounds as (
    select compound, community, from compound_community
),

monthly as (
    select p.*, c.community,
    from participation_monthly as p
    left join compounds as c on c.compound = p.compound
    where
        p.month >= cast(date_trunc('month', $date_from) as date)
        and p.month <= $date_to
        and ($communities is null or list_contains($communities, c.community))
        and ($compounds is null or list_contains($compounds, p.compound))
),

final as (
    select
        community,
        compound,
        month,
        households,
        participating_households,
        -- metric participation_pct (pipelines/metrics/catalog.py)
        rate_pct(participating_households, households) as participation_pct,
        ballots,
        questionnaires,
        opinions,
        engagement_events,
    from monthly
)

select * from final
order by community nulls last, compound, month
