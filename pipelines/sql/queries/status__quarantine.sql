-- Status page: rows that did not load, counted by source and reason.
with quarantined as (
    select * from quarantine
),

final as (
    select
        source,
        reason,
        count(*) as row_count,
        max(load_id) as latest_load_id,
    from quarantined
    group by source, reason
)

select * from final
order by row_count desc, source, reason
