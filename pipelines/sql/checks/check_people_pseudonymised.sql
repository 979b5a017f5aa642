-- severity: error
-- after loads of: population, ballots, engagement
-- Person and household identifiers are stored only as 32-hex-character pseudonyms
-- (HMAC-SHA256): a value of any other shape may be an identifier in clear.
with

identifiers as (
    select 'residents.person_id' as column_name, person_id as value from residents
    union all
    select 'residents.household_id', household_id from residents
    union all
    select 'ballots.owner_id', owner_id from ballots
    union all
    select 'engagement.person_id', person_id from engagement
    union all
    select 'engagement.household_id', household_id from engagement
)

select column_name, count(*) as bad_values
from identifiers
where value is not null and not regexp_full_match(value, '[0-9a-f]{32}')
group by column_name
