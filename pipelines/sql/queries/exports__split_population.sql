-- Split values for population_summary (a snapshot: no period): every community with
-- residents. $dimension is always 'community' (the report's only split).
select distinct community as value,
from residents
where $dimension = 'community' and community is not null
order by value
