-- Status page: every table that exists in the warehouse, with its size.
-- Read from the catalogue, so tables added by later migrations appear without code changes;
-- estimated_size is DuckDB's row count kept with the table (exact after a checkpoint unless
-- rows were deleted since).
with tables as (
    select * from duckdb_tables()
),

final as (
    select
        table_name,
        estimated_size as row_count,
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
