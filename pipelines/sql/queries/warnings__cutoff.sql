-- The tickets' data cut-off: the newest report (not the wall clock).
select max(reported_at) as cutoff_at, from tickets
