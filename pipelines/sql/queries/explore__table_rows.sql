-- Explorer sub-pages: whether a table exists and how many rows it holds (estimate).
select coalesce(max(estimated_size), -1) as row_count
from duckdb_tables()
where table_name = $table_name
