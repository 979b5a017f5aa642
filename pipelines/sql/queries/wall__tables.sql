-- Wall: which tables exist, so views whose tables are not there yet say "no data yet".
select table_name
from duckdb_tables()
where not internal and schema_name = 'main'
order by table_name
