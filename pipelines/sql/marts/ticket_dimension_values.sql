-- depends on: tickets
-- Every value each explorer filter offers (explore__options.sql), with its ticket count.
with tickets as (
    select community, grid, compound, category, source, handler, from tickets
),

final as (
    select 'community' as dimension, community as value, count(*) as ticket_count,
    from tickets group by community
    union all
    select 'grid', grid, count(*) from tickets where grid is not null group by grid
    union all
    select 'compound', compound, count(*) from tickets where compound is not null
    group by compound
    union all
    select 'category', category, count(*) from tickets group by category
    union all
    select 'source', source, count(*) from tickets where source is not null
    group by source
    union all
    select 'handler', handler, count(*) from tickets where handler is not null
    group by handler
)

select * from final
