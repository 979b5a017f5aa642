-- warnings: every warning active at some moment of the period (dates inclusive): first
-- seen by its last day and not resolved before its first. One row per warning episode,
-- most severe first. Scope columns are empty where a rule does not use them; evidence is
-- exact (decimal(18,2)); `definition` is the rule's 口径 with this center's parameters.
-- --community keeps warnings of that community and of the compounds that belong to it
-- (compound_community); --compound keeps that compound's.
with compounds as (
    select compound from compound_community where community = $community
),

found as (
    select * from warnings
    where
        first_seen_at < $date_to + interval 1 day
        and (resolved_at is null or resolved_at >= $date_from)
        and ($compound is null or compound = $compound)
        and (
            $community is null
            or community = $community
            or compound in (select compound from compounds)
        )
),

final as (
    select
        warning_id,
        kind,
        rule_id,
        severity,
        status,
        community,
        grid,
        category,
        compound,
        vote_id,
        source,
        subject,
        title,
        observed,
        expected,
        usual_low,
        usual_high,
        threshold,
        unit,
        window_from,
        window_to,
        first_seen_at,
        last_seen_at,
        resolved_at,
        definition,
        case severity when 'critical' then 0 when 'high' then 1 else 2 end as rank,
    from found
)

select * exclude (rank) from final
order by rank, first_seen_at, warning_id
