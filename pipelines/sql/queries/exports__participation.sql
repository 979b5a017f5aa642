-- participation: household participation per compound and month, for every month that
-- overlaps the period (dates inclusive), from participation_monthly (rebuilt by each
-- population, ballots and engagement load). $community keeps the compounds that
-- compound_community places in it (declared, else where most residents live).
-- The rate is recomputed from the two counts with integer arithmetic, rounded half up
-- to 4 places like closure_rates (participation_monthly's own rate rounds a DOUBLE).
with compounds as (
    select compound from compound_community where community = $community
),

monthly as (
    select * from participation_monthly
    where
        month >= cast(date_trunc('month', $date_from) as date)
        and month <= $date_to
        and ($compound is null or compound = $compound)
        and ($community is null or compound in (select compound from compounds))
),

final as (
    select
        strftime(month, '%Y-%m') as month,
        compound,
        households,
        participating_households,
        cast(cast((participating_households * 20000 // nullif(households, 0) + 1) // 2
            as decimal(18, 0)) * 0.0001 as decimal(9, 4)) as participation_rate,
        ballots,
        questionnaires,
        opinions,
    from monthly
)

select * from final
order by month, compound
