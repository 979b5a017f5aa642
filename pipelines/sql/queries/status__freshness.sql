-- Status page: how fresh each source's data is. A load succeeded unless its status is
-- 'failed' ('warning' loads, e.g. calendar fallback, did load their rows).
-- Stale when the newest record (or, for files without timestamps, the newest successful
-- load) is older than $stale_before, which the caller computes from WALL_STALE_HOURS.
with loads as (
    select * from load_log
),

per_source as (
    select
        source,
        max(finished_at) filter (where status <> 'failed') as newest_load_at,
        max(newest_record_at) filter (where status <> 'failed') as newest_record_at,
        count(*) filter (where status <> 'failed') as ok_count,
        count(*) filter (where status = 'failed') as failed_count,
    from loads
    group by source
),

final as (
    select
        source,
        newest_load_at,
        newest_record_at,
        ok_count,
        failed_count,
        coalesce(
            coalesce(newest_record_at, newest_load_at) < $stale_before,
            true
        ) as is_stale,
    from per_source
)

select * from final
order by source
