-- Split values for ticket reports: the communities or compounds with tickets
-- reported in the period. $dimension is 'community' or 'compound' (from the schedule,
-- checked against an allow-list in pipelines/queries/exports.py).
select distinct
    case $dimension when 'community' then community else compound end as value,
from tickets
where
    reported_at >= $date_from
    and reported_at < $date_to + interval 1 day
    and value is not null
order by value
