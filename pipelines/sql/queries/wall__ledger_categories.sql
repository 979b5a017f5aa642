-- Wall, accounts view: this month's ledger lines by direction and category, largest
-- first (top $limit of each direction).
with compounds as (
    select compound from compound_community
    where $community is null or community = $community
),

lines as (
    select
        direction,
        coalesce(category, '—') as category,
        amount_yuan,
    from ledger_entries
    where
        booked_on >= $month
        and booked_on < $month + interval 1 month
        and ($community is null or compound in (select compound from compounds))
),

per_category as (
    select
        direction,
        category,
        sum(amount_yuan) as amount_yuan,
        row_number() over (
            partition by direction order by sum(amount_yuan) desc, category
        ) as rank,
    from lines
    group by direction, category
)

select direction, category, amount_yuan
from per_category
where rank <= $limit
order by direction, rank
