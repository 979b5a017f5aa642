-- Freshness (pipelines/freshness.py), for the wall, the status page and /healthz: per
-- source its newest successful load and the newest record it carried. A load in
-- load_log succeeded unless its status is 'failed' ('warning' loads did load their
-- rows); failed and refused attempts are in the load journal, not here.
with loads as (
    select * from load_log
),

final as (
    select
        source,
        max(finished_at) filter (where status <> 'failed') as newest_load_at,
        max(newest_record_at) filter (where status <> 'failed') as newest_record_at,
    from loads
    group by source
)

select * from final
order by source
