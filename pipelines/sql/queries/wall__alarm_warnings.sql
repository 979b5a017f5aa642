-- Wall, alarm strip: early warnings still holding (metric warnings_active), and how many
-- of them held already before $before (a count that grew past red within the last hour
-- pulses once).
select
    count(*) filter (where status <> 'resolved') as warnings_active,
    count(*) filter (
        where status <> 'resolved' and first_seen_at <= $before
    ) as warnings_active_before,
    count(*) filter (
        where status <> 'resolved' and severity = 'critical'
    ) as warnings_critical,
from warnings
