-- Status page: years the official working-day calendar does not know. Deadlines in
-- those years are counted Monday-Friday (see pipelines/workdays.py), which gets
-- holidays and make-up working days wrong.
with calendar as (
    select * from dim_calendar
),

final as (
    select
        cast(year(day) as integer) as calendar_year,
        count(*) as day_count,
    from calendar
    where not is_official
    group by calendar_year
)

select * from final
order by calendar_year
