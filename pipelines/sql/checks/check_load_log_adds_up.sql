-- severity: error
-- after loads of: *
-- scope: load_log.load_id
-- Every load's accounting adds up: each row read ends in exactly one bucket.
select load_id, source_file, rows_read, inserted, updated, unchanged, duplicates, quarantined
from load_log
where rows_read <> inserted + updated + unchanged + duplicates + quarantined
