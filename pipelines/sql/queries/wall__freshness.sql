-- Wall, top bar: per source, the newest successful load (status other than 'failed';
-- 'warning' loads did load their rows) and the newest record it carried.
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
