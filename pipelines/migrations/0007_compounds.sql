-- Compounds and the one rule that places each in a community (docs/architecture.md,
-- "Dimensions"). Every query that filters or splits compound-keyed data (participation,
-- votes, the ledger) by community joins compound_community, so the explorer, its export
-- link and the wall agree.

-- Compounds as the center declares them (load compounds): the community, and optionally
-- the grid, each compound belongs to.
create table compounds (
    compound varchar not null,
    community varchar not null,
    grid varchar,
    row_hash ubigint not null,
    load_id bigint not null
);

-- Derived (compounds, population): each compound's community and grid. A compound in
-- `compounds` takes its row there (basis 'declared'); any other compound with residents
-- takes the community most of them live in, ties to the first by name (basis
-- 'residents'). The grid, when not declared, is the commonest among its residents in that
-- community (ties by name). Compounds known only from votes or the ledger have no row.
create table compound_community (
    compound varchar not null,
    community varchar not null,
    grid varchar,
    basis varchar not null                -- declared | residents
);
