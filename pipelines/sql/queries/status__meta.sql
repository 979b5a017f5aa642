-- Status page: which warehouse this is. One row.
with versions as (
    select max(version) as schema_version from schema_version
),

meta as (
    select
        data_version,
        written_at,
    from warehouse_meta
),

final as (
    select
        versions.schema_version,
        meta.data_version,
        meta.written_at,
    from versions
    cross join meta
)

select * from final
