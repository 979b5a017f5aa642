-- Wall, closure view: the months from $trend_start to $month_start whose stored counts
-- (wall_closure_monthly) hold at $now, i.e. every ticket of the month settled before it.
select distinct month
from wall_closure_monthly
where
    month >= $trend_start
    and month <= $month_start
    and settled_after < $now
order by month
