-- /healthz: which data is served. Reads one small bookkeeping table only, so a health
-- check never costs a scan of the facts (freshness: status__freshness, over load_log).
with meta as (
    select
        data_version,
        written_at,
    from warehouse_meta
),

final as (
    select
        meta.data_version,
        meta.written_at,
    from meta
)

select * from final
