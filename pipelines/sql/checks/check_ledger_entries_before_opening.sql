-- severity: warning
-- after loads of: ledger, ledger_balances
-- Entries dated before their compound's opening-balance month are left out of the
-- statement; each one is listed here (fix the opening month or the entry).
select
    e.entry_id,
    e.compound,
    e.booked_on,
    o.month as opening_month,
from ledger_entries as e
inner join ledger_openings as o on o.compound = e.compound
where
    e.booked_on < date_trunc('month', try_strptime(
        o.month, ['%Y-%m', '%Y-%m-%d', '%Y/%m', '%Y/%m/%d', '%Y年%m月', '%Y%m']
    ))
