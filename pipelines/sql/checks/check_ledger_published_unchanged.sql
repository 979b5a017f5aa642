-- severity: error
-- after loads of: ledger, ledger_balances
-- A published month is never silently rewritten: its statement today equals the figures
-- recorded when it was published (late changes are adjustments of a later month).
select
    p.compound,
    p.month,
    p.closing_yuan as published_closing_yuan,
    m.closing_yuan as current_closing_yuan,
    p.income_yuan as published_income_yuan,
    m.income_yuan as current_income_yuan,
    p.expense_yuan as published_expense_yuan,
    m.expense_yuan as current_expense_yuan,
from ledger_publications as p
left join ledger_monthly as m on m.compound = p.compound and m.month = p.month
where
    m.month is null
    or m.opening_yuan <> p.opening_yuan
    or m.income_yuan <> p.income_yuan
    or m.expense_yuan <> p.expense_yuan
    or m.adjustment_yuan <> p.adjustment_yuan
    or m.closing_yuan <> p.closing_yuan
