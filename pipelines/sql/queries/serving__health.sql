-- /healthz: which data is served and when it was last loaded. Reads two small
-- bookkeeping tables only, so a health check never costs a scan of the facts.
with meta as (
    select
        data_version,
        written_at,
    from warehouse_meta
),

loads as (
    select
        max(finished_at) filter (where status <> 'failed') as newest_load_at,
        max(newest_record_at) filter (where status <> 'failed') as newest_record_at,
        count(*) filter (where status = 'failed') as failed_count,
    from load_log
),

final as (
    select
        meta.data_version,
        meta.written_at,
        loads.newest_load_at,
        loads.newest_record_at,
        loads.failed_count,
    from meta
    cross join loads
)

select * from final
