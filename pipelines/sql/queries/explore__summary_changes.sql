-- Whether a summary judged earlier (each period p at $p_since) may differ judged now (at
-- $p_as_of, later), the periods' dates being the same (pipelines/queries/explore.py
-- `summary_moved`): explore__summary.sql, and the marts that give the same figures, judge
-- a ticket at its period's as-of only by `closed_at <= as-of` and `as-of > deadline_at`
-- (migration 0006), so nothing can change unless one of the period's tickets closed in
-- ($p_since, $p_as_of] or fell due in [$p_since, $p_as_of). Each part is a range scan
-- that zone maps keep to a few row groups. Filters: the view's, status left out (it is
-- judged at the as-of too: a ticket it leaves out then may count now, by its own closure
-- or deadline).
select exists (
    /*changes_part(cur)*/
    union all
    /*changes_part(prev)*/
    union all
    /*changes_part(ly)*/
) as changed
