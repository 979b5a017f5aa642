-- Explorer: the values each filter offers (every value present in tickets), with counts,
-- from ticket_dimension_values (rebuilt by every tickets load; never a scan of tickets).
select dimension, value, ticket_count,
from ticket_dimension_values
order by dimension, value
