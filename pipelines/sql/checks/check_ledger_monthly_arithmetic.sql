-- severity: error
-- after loads of: ledger, ledger_balances
-- Every statement line adds up: closing = opening + income - expense + adjustment.
select *
from ledger_monthly
where closing_yuan <> opening_yuan + income_yuan - expense_yuan + adjustment_yuan
