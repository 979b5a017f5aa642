-- Status page: the exact row count of one table. $table_name is bound as a value and
-- resolved by query_table() as a table name (callers pass names from status__tables).
select count(*) as row_count
from query_table($table_name)
