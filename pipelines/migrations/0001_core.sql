-- Core warehouse: bookkeeping, tickets, calendar and time limits.
-- All timestamps are local Asia/Shanghai wall-clock times (timestamp without time zone).

create table schema_version (
    version integer not null,
    name varchar not null,
    applied_at timestamp not null
);

-- One row; data_version goes up by one with every successful write (the app's cache key).
create table warehouse_meta (
    data_version bigint not null,
    written_at timestamp not null
);
insert into warehouse_meta values (0, current_timestamp);

create sequence load_id_seq;

-- One row per file per load. A load that failed leaves the data as it was and is recorded
-- here afterwards with status 'failed' and its message.
create table load_log (
    load_id bigint not null,
    source varchar not null,             -- tickets, population, votes, ...
    source_file varchar not null,
    file_sha256 varchar,
    rows_read bigint not null default 0,
    inserted bigint not null default 0,
    updated bigint not null default 0,
    unchanged bigint not null default 0,
    duplicates bigint not null default 0,
    quarantined bigint not null default 0,
    started_at timestamp not null,
    finished_at timestamp,
    status varchar not null,             -- ok | failed
    message varchar,                      -- warnings (e.g. calendar fallback) or the error
    newest_record_at timestamp           -- newest timestamp in the file: data freshness
);

-- Rows that did not load, with where they came from and why. raw_row is JSON text of the
-- row as read, with personal data masked or pseudonymised.
create table quarantine (
    load_id bigint not null,
    source varchar not null,
    source_file varchar not null,
    line_no bigint,                       -- header is line 1
    raw_row varchar,
    reason varchar not null
);

-- One row per ticket, its latest known state. due_on / deadline_at come from sla_rule and
-- dim_calendar (see pipelines/workdays.py); is_calendar_fallback marks deadlines counted
-- Monday-Friday because the official calendar did not know the year.
create table tickets (
    ticket_id varchar not null,
    reported_at timestamp not null,
    accepted_at timestamp,
    responded_at timestamp,
    escalated_at timestamp,
    closed_at timestamp,
    level utinyint not null,
    category varchar not null,
    community varchar not null,
    grid varchar,
    compound varchar,
    source varchar,
    handler varchar,
    satisfaction varchar,
    description varchar,                  -- personal data masked
    updated_at timestamp,
    due_on date,
    deadline_at timestamp,                -- end of due_on: on time when closed_at <= this
    is_calendar_fallback boolean not null default false,
    row_hash ubigint not null,            -- hash of the stored values: unchanged rows
    load_id bigint not null
);

-- Working-day calendar. workdays_through counts working days up to and including the day,
-- so "the n-th working day after d" is the working day whose count is d's count + n.
create table dim_calendar (
    day date not null,
    is_workday boolean not null,
    is_official boolean not null,         -- false: year unknown to the calendar, Mon-Fri used
    note varchar,                          -- holiday name or '调休' make-up working day
    workdays_through integer not null
);

-- Time limit per level (from settings): kind same_day | days | workdays, and n.
create table sla_rule (
    level utinyint not null,
    kind varchar not null,
    n integer not null
);
