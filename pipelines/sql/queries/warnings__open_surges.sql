-- The anomaly warnings open now (one per cell: `surge|` keys), so a surge still above its
-- usual range stays the same warning rather than flapping (warnings_anomalies.surges).
select warning_key, from warnings
where status in ('new', 'ongoing') and starts_with(warning_key, 'surge|')
