-- participation: household participation per compound and month, for every month that
-- overlaps the period (dates inclusive), from participation_monthly (rebuilt by each
-- population, ballots and engagement load). A compound belongs to a community when any
-- of its residents lives there (the wall's rule), so $community keeps those compounds.
-- The rate is recomputed from the two counts with integer arithmetic, rounded half up
-- to 4 places like closure_rates (participation_monthly's own rate rounds a DOUBLE).
with compounds as (
    select distinct compound from residents
    where compound is not null and community = $community
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
