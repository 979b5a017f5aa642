-- severity: warning
-- after loads of: votes, ballots
-- Turnout cannot exceed the eligible owners or area: more ballots (or area) than the
-- votes file declares means a wrong eligible count or ballots from another compound.
select
    vote_id,
    eligible_owners,
    voted_owners,
    eligible_area_m2,
    voted_area_m2,
from vote_results
where voted_owners > eligible_owners or voted_area_m2 > eligible_area_m2
