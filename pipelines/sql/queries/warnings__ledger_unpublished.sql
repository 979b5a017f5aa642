-- ledger_unpublished: the latest month whose publication day (its last day +
-- $publish_days + 1) is on or before $as_of's date; a compound with statements before
-- that month (and entries at some time) but no entries in it or later cannot publish it.
with cut as (
    select ($as_of::date - to_days($publish_days + 1))::date as x,
),

due_month as (
    select
        case
            when last_day(x) = x then date_trunc('month', x)::date
            else (date_trunc('month', x) - interval 1 month)::date
        end as month,
    from cut
),

compounds as (
    select
        m.compound,
        d.month,
        max(m.month) filter (where m.entry_count > 0) as last_active,
        min(m.month) as first_month,
    from ledger_monthly as m, due_month as d
    group by m.compound, d.month
)

select
    null::varchar as community,
    null::varchar as grid,
    null::varchar as category,
    compound,
    null::varchar as vote_id,
    null::varchar as source,
    strftime(month, '%Y-%m') as subject,
    1::decimal(18, 2) as observed,
    null::decimal(18, 2) as expected,
    null::decimal(18, 2) as threshold,
    month::timestamp as window_from,
    (last_day(month) + to_days($publish_days + 1))::timestamp as window_to,
from compounds
where first_month < month and last_active < month
order by compound
