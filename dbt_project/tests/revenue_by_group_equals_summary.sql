-- Balance identity: the card part of the transaction-code table is the summary's PMS total.
{{ config(meta={'dagster': {'ref': {'name': 'revenue_by_group'}}}) }}
with groups as (
    select hotel_id, business_date, sum(card_cents) as pms
    from {{ ref('revenue_by_group') }} group by hotel_id, business_date
),
summary as (
    select hotel_id, business_date, sum(pms_cents) as pms
    from {{ ref('daily_summary') }} group by hotel_id, business_date
)
select s.hotel_id, s.business_date, s.pms as summary_pms, g.pms as groups_pms
from summary as s
left join groups as g on g.hotel_id = s.hotel_id and g.business_date = s.business_date
where coalesce(g.pms, 0) <> s.pms
