-- Population, participation and the public ledger (issue 3), with their derived tables.
-- Person and household identifiers are HMAC-SHA256 pseudonyms (32 hex characters), never
-- the identifiers as received; names and phone numbers are never stored; free text is
-- masked. Money is decimal(18,2). Timestamps are local Asia/Shanghai without zone.
-- Loaded tables carry row_hash and load_id (pipelines/loader.py); derived tables are
-- rebuilt by pipelines/derived.py inside the load that changed their inputs.

-- Grids: staffing reference (load grids).
create table grids (
    zone varchar,
    community varchar not null,
    grid varchar not null,
    grid_head varchar,                    -- the grid head's name (a public role), masked
    grid_workers integer,
    households_served integer,
    row_hash ubigint not null,
    load_id bigint not null
);

-- Residents: one row per person, latest state (load population).
create table residents (
    person_id varchar not null,           -- pseudonym of the national ID / stable id
    household_id varchar not null,        -- pseudonym of the household number
    community varchar not null,
    grid varchar,
    compound varchar,
    building varchar,
    birth_year integer,                   -- a birth date is reduced to its year
    sex varchar,                          -- male | female (others kept as given)
    residence varchar,                    -- registered | resident | floating
    is_owner boolean,
    key_groups_text varchar,              -- key groups as received (masked)
    updated_at timestamp,
    key_groups varchar[],                 -- canonical codes (WALL_KEY_GROUPS), derived
    row_hash ubigint not null,
    load_id bigint not null
);

-- Votes of owners (load votes).
create table votes (
    vote_id varchar not null,
    compound varchar not null,
    title varchar,
    matter varchar not null,              -- ordinary | major (Civil Code art. 278)
    opens_at timestamp not null,
    closes_at timestamp not null,
    eligible_owners integer not null,
    eligible_area_m2 decimal(18,2) not null,
    row_hash ubigint not null,
    load_id bigint not null
);

-- Ballots: one per owner per vote, the latest cast wins (load ballots).
create table ballots (
    vote_id varchar not null,
    owner_id varchar not null,            -- pseudonym of the owner's id
    area_m2 decimal(18,2) not null,
    choice varchar not null,              -- yes | no | abstain
    cast_at timestamp not null,
    row_hash ubigint not null,
    load_id bigint not null
);

-- Questionnaires, opinions, volunteering, ... (load engagement).
create table engagement (
    event_id varchar not null,
    compound varchar not null,
    kind varchar not null,                -- questionnaire | opinion | suggestion | praise |
                                          -- complaint | volunteer | registration
    occurred_at timestamp not null,
    person_id varchar,                    -- pseudonym
    household_id varchar,                 -- pseudonym
    row_hash ubigint not null,
    load_id bigint not null
);

-- Ledger lines of each compound's public money (load ledger).
create table ledger_entries (
    entry_id varchar not null,
    compound varchar not null,
    booked_on date not null,
    direction varchar not null,           -- income | expense
    category varchar,
    amount_yuan decimal(18,2) not null,   -- never negative; direction gives the sign
    counterparty varchar,                 -- masked
    voucher_no varchar,
    note varchar,                         -- masked
    is_adjustment boolean not null default false,  -- added/changed after its month was published
    adjusted_on date,                     -- when that happened (the load's local date)
    row_hash ubigint not null,
    load_id bigint not null
);

-- Opening balance of each compound at the start of its first month (load ledger_balances).
create table ledger_openings (
    compound varchar not null,
    month varchar not null,               -- YYYY-MM (also YYYY-MM-DD, YYYY/MM, YYYY年MM月)
    opening_yuan decimal(18,2) not null,
    row_hash ubigint not null,
    load_id bigint not null
);

-- Derived: the ledger's journal. Every change to an entry (new, changed amount, direction,
-- compound or month) is posted once, as a delta. A change to a month that was already
-- published is posted to the month of the load as an adjustment, so a published month's
-- figures never change afterwards.
create table ledger_postings (
    entry_id varchar not null,
    compound varchar not null,
    booked_month date not null,           -- first day of the entry's month
    posted_month date not null,           -- the month whose statement shows this posting
    posted_on date not null,              -- local date of the load
    income_yuan decimal(18,2) not null,   -- delta of income
    expense_yuan decimal(18,2) not null,  -- delta of expense
    is_adjustment boolean not null,
    load_id bigint not null
);

-- Derived: monthly statement per compound. closing = opening + income - expense + adjustment,
-- and each month's closing is the next month's opening (sql/checks/check_ledger_*.sql).
create table ledger_monthly (
    compound varchar not null,
    month date not null,                  -- first day of the month
    opening_yuan decimal(18,2) not null,
    income_yuan decimal(18,2) not null,
    expense_yuan decimal(18,2) not null,
    adjustment_yuan decimal(18,2) not null,  -- net of late changes to published months
    adjustment_count integer not null,
    closing_yuan decimal(18,2) not null,
    entry_count integer not null,
    is_published boolean not null,
    published_on date
);

-- Derived: each month's statement as it was when published (WALL_LEDGER_PUBLISH_DAYS
-- after the month's end). Never updated; a check compares it with ledger_monthly.
create table ledger_publications (
    compound varchar not null,
    month date not null,
    published_on date not null,
    opening_yuan decimal(18,2) not null,
    income_yuan decimal(18,2) not null,
    expense_yuan decimal(18,2) not null,
    adjustment_yuan decimal(18,2) not null,
    closing_yuan decimal(18,2) not null,
    recorded_load_id bigint not null
);

-- Derived: each vote's tally and its state under the Civil Code art. 278 thresholds,
-- as at `as_of` (the local time of the last votes/ballots load).
create table vote_results (
    vote_id varchar not null,
    compound varchar not null,
    title varchar,
    matter varchar not null,
    opens_at timestamp not null,
    closes_at timestamp not null,
    eligible_owners integer not null,
    eligible_area_m2 decimal(18,2) not null,
    voted_owners integer not null,        -- ballots (abstentions included)
    voted_area_m2 decimal(18,2) not null,
    yes_owners integer not null,
    yes_area_m2 decimal(18,2) not null,
    no_owners integer not null,
    no_area_m2 decimal(18,2) not null,
    abstain_owners integer not null,
    abstain_area_m2 decimal(18,2) not null,
    turnout_owners_pct decimal(6,2),      -- for display; decisions use exact arithmetic
    turnout_area_pct decimal(6,2),
    approval_owners_pct decimal(6,2),     -- yes among those who took part
    approval_area_pct decimal(6,2),
    meets_turnout boolean not null,       -- >= 2/3 of owners AND >= 2/3 of area
    meets_approval boolean not null,      -- ordinary: > 1/2, major: >= 3/4, both ways
    state varchar not null,               -- open | passed | failed
    on_track boolean,                     -- open votes: linear turnout projection >= 2/3
    projected_turnout_owners_pct decimal(8,2),
    projected_turnout_area_pct decimal(8,2),
    as_of timestamp not null
);

-- Derived: household participation per compound per month.
create table participation_monthly (
    compound varchar not null,
    month date not null,
    households integer not null,          -- households of the compound (residents)
    participating_households integer not null,  -- with any ballot or engagement that month
    participation_rate decimal(5,4) not null,   -- participating / households, 0..1
    ballots integer not null,             -- ballots cast that month in the compound's votes
    questionnaires integer not null,
    opinions integer not null,
    engagement_events integer not null
);
