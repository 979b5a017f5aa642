-- severity: warning
-- after loads of: population, votes, ballots, engagement
-- Participating households are a subset of the compound's households.
select *
from participation_monthly
where
    participating_households > households
    or participation_rate < 0
    or participation_rate > 1
