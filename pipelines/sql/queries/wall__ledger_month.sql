-- Wall, accounts view: the month to show: the month of $today if it has a statement,
-- else the newest month before it.
select max(month) as month
from ledger_monthly
where month <= $month_start
