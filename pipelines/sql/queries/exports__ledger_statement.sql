-- ledger_statement: each compound's monthly public-accounts statement for every month
-- that overlaps the period (dates inclusive), from ledger_monthly, in exact decimal(18,2).
-- closing = opening + income - expense + adjustment, and each month's opening is the
-- previous month's closing. `adjustment` is the net of changes to months already
-- published (WALL_LEDGER_PUBLISH_DAYS after their end) that were loaded during this
-- month: a published month's figures never change; the correction shows here instead.
-- published_on is empty while the month is not published (its figures may still change).
with compounds as (
    select compound from compound_community where community = $community
),

monthly as (
    select * from ledger_monthly
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
        opening_yuan as opening,
        income_yuan as income,
        expense_yuan as expense,
        adjustment_yuan as adjustment,
        closing_yuan as closing,
        published_on,
    from monthly
)

select * from final
order by month, compound
