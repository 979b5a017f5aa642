-- Early warnings (issue 15): one row per warning episode, computed by the pipeline after
-- every load (pipelines/warnings_engine.py). A condition that persists across loads stays
-- one row: warning_key names the rule and its scope, and warning_id is that key plus the
-- moment it was first seen, so a condition that clears and later returns is a new episode.
-- Evidence is exact: counts, percentages (0..100) and yuan as decimal(18,2).

create table warnings (
    warning_id varchar not null,          -- warning_key || '@' || first_seen_at
    warning_key varchar not null,         -- rule_id and scope, stable across loads
    kind varchar not null,                -- rule | anomaly
    rule_id varchar not null,             -- level4_open, surge_week, ... (warnings.toml)
    severity varchar not null,            -- critical | high | medium
    community varchar,                    -- scope: whichever apply to the rule
    grid varchar,
    category varchar,
    compound varchar,
    vote_id varchar,
    source varchar,
    subject varchar,                      -- ticket id, ledger month (YYYY-MM), ...
    title varchar not null,               -- one line a duty officer reads (Chinese)
    observed decimal(18, 2),
    expected decimal(18, 2),              -- anomalies: the baseline's expectation
    usual_low decimal(18, 2),             -- anomalies: the usual range (10th..90th pct)
    usual_high decimal(18, 2),
    threshold decimal(18, 2),             -- the value observed had to pass
    unit varchar not null,                -- tickets | pct | yuan | hours | ratio
    window_from timestamp,                -- the span the evidence counts
    window_to timestamp,
    definition varchar not null,          -- 口径: how the figure is counted
    first_seen_at timestamp not null,     -- evaluation time of the load that found it
    last_seen_at timestamp not null,      -- evaluation time of the latest load that saw it
    resolved_at timestamp,                -- first evaluation that no longer saw it
    status varchar not null,              -- new | ongoing | resolved
    load_id bigint                        -- the load whose refresh last changed the row
);
