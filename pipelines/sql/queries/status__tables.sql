-- Status page: every table that exists in the warehouse.
-- Read from the catalogue, so tables added by later migrations appear without code
-- changes. Row counts come from status__row_count per table: duckdb_tables()'s
-- estimated_size still counts rows deleted by upserts.
with tables as (
    select * from duckdb_tables()
),

final as (
    select
        table_name,
        column_count,
        comment,
    from tables
    where
        database_name = current_database()
        and schema_name = 'main'
        and not temporary
)

select * from final
order by table_name
