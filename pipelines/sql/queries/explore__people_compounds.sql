-- Explorer (participation, accounts): every compound with the community it belongs to,
-- for the filter options and to validate URL values. A compound belongs to the
-- community most of its residents live in (the wall's and the exports' rule, made
-- single-valued); compounds that appear only in votes or the ledger have no community.
with from_residents as (
    select compound, mode(community) as community,
    from residents
    where compound is not null
    group by compound
),

others as (
    select compound from votes
    union
    select compound from ledger_monthly
    union
    select compound from participation_monthly
),

final as (
    select
        coalesce(r.compound, o.compound) as compound,
        r.community,
    from from_residents as r
    full outer join (select distinct compound from others) as o
        on o.compound = r.compound
)

select * from final
order by community nulls last, compound
