-- severity: warning
-- after loads of: votes, ballots
-- Every stored ballot belongs to a known vote and was cast while it was open (a later
-- votes file may have moved the window after the ballots loaded).
select
    b.vote_id,
    b.owner_id,
    b.cast_at,
    v.opens_at,
    v.closes_at,
    case when v.vote_id is null then 'unknown vote' else 'cast outside the vote' end
        as problem,
from ballots as b
left join votes as v on v.vote_id = b.vote_id
where v.vote_id is null or b.cast_at > v.closes_at or b.cast_at < v.opens_at
