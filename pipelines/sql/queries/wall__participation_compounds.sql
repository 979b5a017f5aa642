-- Wall, participation view: per compound, its participation rate each of the 12 months
-- ending with $month_start (oldest first), its first and latest rate in that window.
with compounds as (
    select compound from compound_community
    where $community is null or community = $community
),

monthly as (
    select
        pm.compound,
        pm.month,
        -- metric participation_pct from the counts (participation_rate is pre-rounded)
        cast(rate_pct(pm.participating_households, pm.households) as double)
            as participation_pct,
    from participation_monthly as pm
    inner join compounds on compounds.compound = pm.compound
    where pm.month >= $trend_start and pm.month <= $month_start
),

final as (
    select
        compound,
        list(participation_pct order by month) as monthly_pct,
        arg_min(participation_pct, month) as first_pct,
        min(month) as first_month,
        arg_max(participation_pct, month) as latest_pct,
        max(month) as latest_month,
    from monthly
    group by compound
)

select * from final
order by latest_pct desc, compound
