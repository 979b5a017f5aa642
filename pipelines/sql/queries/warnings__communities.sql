-- Communities that have had a warning: the explorer's community filter options.
select distinct community from warnings where community is not null order by community
