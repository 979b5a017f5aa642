-- Explorer, population: portrait per community and grid (a snapshot of residents):
-- residents, households, residence (registered / resident / floating / other), age
-- bands from birth_year ($year - birth_year: 0-17, 18-59, 60-79, 80+, unknown) and
-- one measure per key group ($key_groups). Long format: one row per (row, measure).
-- Each household counts once, in the grid of its most recently updated member.
--
-- Suppression, k = $small_count, the population_summary export's rule extended to
-- linked columns. A "unit" is what is hidden together: each of residents, households
-- and every key group on its own; the residence columns as one unit and the age bands
-- as one unit (their members add up to residents, which is shown, so hiding one member
-- alone would give it away: a unit is hidden whole, in that row).
--   1. small: every count 1..k-1, in any row, reads '<k'; its unit in that row is
--      hidden ('—' for the other members);
--   2. communities: if exactly one community's unit is hidden, the smallest other
--      non-zero community unit is hidden too (the sub-district total is shown);
--   3. grids: in a community whose unit is shown, if exactly one grid's unit is
--      hidden, the smallest other non-zero grid unit is hidden too; in a community
--      whose unit is hidden, at least one grid unit is hidden.
-- Zeros are shown. The pattern is computed over the whole sub-district before the
-- community filter applies, so views of different communities never combine to reveal
-- a cell. Values of hidden cells never leave this query (shown_count is null).
-- Counts per grid come from population_counts (built from residents by every population
-- load, pipelines/derived.py): a few rows per grid instead of every resident.
with people_counts as (
    select
        community,
        coalesce(grid, '（未填网格）') as grid,
        kind,
        code,
        birth_year,
        person_count,
    from population_counts
    where kind in ('residence', 'birth_year', 'key_group', 'households')
),

measures as (
    select * from (values
        ('residents', 'residents', 1),
        ('households', 'households', 2),
        ('res_registered', 'residence', 10),
        ('res_resident', 'residence', 11),
        ('res_floating', 'residence', 12),
        ('res_other', 'residence', 13),
        ('age_0_17', 'age', 20),
        ('age_18_59', 'age', 21),
        ('age_60_79', 'age', 22),
        ('age_80_plus', 'age', 23),
        ('age_unknown', 'age', 24)
    ) as m (measure, unit, ord)
    union all
    select 'kg:' || code as measure, 'kg:' || code as unit, 100 + ord as ord,
    from (select unnest($key_groups) as code, generate_subscripts($key_groups, 1) as ord)
),

person_measures as (
    select community, grid, 'residents' as measure, person_count,
    from people_counts
    where kind = 'residence'
    union all
    select
        community,
        grid,
        case code
            when 'registered' then 'res_registered'
            when 'resident' then 'res_resident'
            when 'floating' then 'res_floating'
            else 'res_other'
        end as measure,
        person_count,
    from people_counts
    where kind = 'residence'
    union all
    select
        community,
        grid,
        case
            when birth_year is null then 'age_unknown'
            when $year - birth_year < 18 then 'age_0_17'
            when $year - birth_year < 60 then 'age_18_59'
            when $year - birth_year < 80 then 'age_60_79'
            else 'age_80_plus'
        end as measure,
        person_count,
    from people_counts
    where kind = 'birth_year'
    union all
    select community, grid, 'kg:' || code as measure, person_count,
    from people_counts
    where kind = 'key_group' and list_contains($key_groups, code)
    union all
    select community, grid, 'households' as measure, person_count,
    from people_counts
    where kind = 'households'
),

counts as (
    select community, grid, measure, cast(sum(person_count) as bigint) as value,
    from person_measures
    group by all
),

-- every grid with people (each person has one residence row)
grids as (
    select distinct community, grid from people_counts where kind = 'residence'
),

grid_cells as (
    select
        g.community,
        g.grid,
        m.measure,
        m.unit,
        m.ord,
        coalesce(c.value, 0) as value,
    from grids as g
    cross join measures as m
    left join counts as c
        on c.community = g.community and c.grid = g.grid and c.measure = m.measure
),

community_cells as (
    select community, measure, unit, ord, sum(value) as value,
    from grid_cells
    group by all
),

district_cells as (
    select measure, unit, ord, sum(value) as value,
    from grid_cells
    group by all
),

grid_units as (
    select
        community,
        grid,
        unit,
        bool_or(value between 1 and $small_count - 1) as is_small,
        sum(value) as size,
    from grid_cells
    group by all
),

community_units as (
    select
        community,
        unit,
        bool_or(value between 1 and $small_count - 1) as is_small,
        sum(value) as size,
    from community_cells
    group by all
),

-- rule 2: one hidden community unit gets a complement
community_ranked as (
    select
        *,
        count(*) filter (where is_small) over (partition by unit) as small_in_unit,
        row_number() over (
            partition by unit order by (is_small or size = 0), size, community
        ) as visible_rank,
    from community_units
),

community_hidden as (
    select
        community,
        unit,
        is_small or (
            small_in_unit = 1 and visible_rank = 1 and size > 0 and not is_small
        ) as is_hidden,
    from community_ranked
),

-- rule 3: grid units within their community
grid_ranked as (
    select
        g.*,
        c.is_hidden as is_total_hidden,
        count(*) filter (where g.is_small) over (
            partition by g.community, g.unit
        ) as small_in_community,
        row_number() over (
            partition by g.community, g.unit
            order by (g.is_small or g.size = 0), g.size, g.grid
        ) as visible_rank,
    from grid_units as g
    inner join community_hidden as c on c.community = g.community and c.unit = g.unit
),

grid_hidden as (
    select
        community,
        grid,
        unit,
        is_small or (
            visible_rank = 1 and size > 0 and not is_small and (
                (small_in_community = 1 and not is_total_hidden)
                or (small_in_community = 0 and is_total_hidden)
            )
        ) as is_hidden,
    from grid_ranked
),

district_hidden as (
    select unit, bool_or(value between 1 and $small_count - 1) as is_hidden,
    from district_cells
    group by unit
),

cells as (
    select
        0 as row_kind, c.community, c.grid, c.measure, c.ord, c.value,
        h.is_hidden,
    from grid_cells as c
    inner join grid_hidden as h
        on h.community = c.community and h.grid = c.grid and h.unit = c.unit
    union all
    select
        1 as row_kind, c.community, null as grid, c.measure, c.ord, c.value,
        h.is_hidden,
    from community_cells as c
    inner join community_hidden as h on h.community = c.community and h.unit = c.unit
    union all
    select
        2 as row_kind, null as community, null as grid, c.measure, c.ord, c.value,
        h.is_hidden,
    from district_cells as c
    inner join district_hidden as h on h.unit = c.unit
    where $communities is null
),

final as (
    select
        row_kind,
        community,
        grid,
        measure,
        ord,
        case
            when value between 1 and $small_count - 1 then '<' || $small_count
            when is_hidden then '—'
            else cast(value as varchar)
        end as cell,
        case when not is_hidden then value end as shown_count,
    from cells
    where $communities is null or list_contains($communities, community)
)

select * from final
order by row_kind = 2, community, row_kind, grid, ord
