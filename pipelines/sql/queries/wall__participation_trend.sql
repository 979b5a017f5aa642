-- Wall, participation view: household participation rate per month over the sub-district
-- (or one community's compounds), the 12 months ending with $month_start, with the
-- month's ballots, questionnaire answers and opinions.
-- rate = households with any ballot or engagement that month / households.
with compounds as (
    select compound from compound_community
    where $community is null or community = $community
),

monthly as (
    select pm.*
    from participation_monthly as pm
    inner join compounds on compounds.compound = pm.compound
    where pm.month >= $trend_start and pm.month <= $month_start
),

final as (
    select
        month,
        cast(sum(households) as bigint) as households,
        cast(sum(participating_households) as bigint) as participating_households,
        -- metric participation_pct (pipelines/metrics/catalog.py)
        rate_pct(sum(participating_households), sum(households)) as participation_pct,
        cast(sum(ballots) as bigint) as ballot_count,
        cast(sum(questionnaires) as bigint) as questionnaire_count,
        cast(sum(opinions) as bigint) as opinion_count,
    from monthly
    group by month
)

select * from final
order by month
