-- Explorer (participation, accounts): every compound with the community it belongs to,
-- for the filter options and to validate URL values. A compound belongs to the
-- community most of its residents live in (the wall's and the exports' rule, made
-- single-valued); compounds that appear only in votes or the ledger have no community.
-- each compound's community: the mode over its residents (mart compound_residents)
with from_residents as (
    select compound, community, from compound_residents
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
