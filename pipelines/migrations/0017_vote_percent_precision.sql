-- vote_results keeps its percentages at full precision (DOUBLE, for display only): stored
-- to 2 places they were rounded twice when shown to 1 (201/325 = 61.846 % read 61.9),
-- and a votes file declaring less area than its ballots cast overflowed decimal(6,2), so
-- the load failed before the data check check_vote_results_within_eligible could say why.
-- Counts and areas stay exact, and every decision uses them, never a percentage.
alter table vote_results alter turnout_owners_pct type double;
alter table vote_results alter turnout_area_pct type double;
alter table vote_results alter approval_owners_pct type double;
alter table vote_results alter approval_area_pct type double;
alter table vote_results alter projected_turnout_owners_pct type double;
alter table vote_results alter projected_turnout_area_pct type double;
