-- Exports: one row per file written (or per failed attempt) by `python -m pipelines export`.
-- Exports read the warehouse read-only; this log is written afterwards in one short write
-- per invocation (see pipelines/exports.py). A schedule's period counts as done when it has
-- a row with status 'ok'.

create table export_log (
    run_id varchar not null,              -- one invocation's run of one schedule (or one-off)
    schedule_name varchar,                -- null for a one-off `export REPORT`
    report varchar not null,              -- closure_rates, overdue_tickets, ...
    period_from date not null,            -- inclusive
    period_to date not null,              -- inclusive
    filters varchar,                      -- JSON object: community, compound, ... (null = none)
    output_path varchar,                  -- final file; null when the run failed before writing
    row_count bigint,
    file_sha256 varchar,                  -- of the file's bytes as written (BOM included)
    data_version bigint,                  -- warehouse_meta.data_version the rows were read from
    started_at timestamp not null,
    finished_at timestamp,
    status varchar not null,              -- ok | failed
    message varchar                       -- why it failed, or a note
);
