-- Status page: the most recent loads, newest first (unfinished loads first of all).
with loads as (
    select * from load_log
),

final as (
    select
        load_id,
        source,
        source_file,
        rows_read,
        inserted,
        updated,
        unchanged,
        duplicates,
        quarantined,
        status,
        message,
        started_at,
        finished_at,
    from loads
)

select * from final
order by finished_at desc nulls first, load_id desc
limit $limit
