-- Explorer (participation, accounts): every compound with the community it belongs to,
-- for the filter options and to validate URL values. A compound's community comes from
-- compound_community (declared by the center, else where most of its residents live: the
-- rule of the wall and the exports too); compounds that appear only in votes or the
-- ledger have no community.
with placed as (
    select compound, community, from compound_community
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
    from placed as r
    full outer join (select distinct compound from others) as o
        on o.compound = r.compound
)

select * from final
order by community nulls last, compound
