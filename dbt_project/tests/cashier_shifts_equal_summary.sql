-- Balance identity: the shifts of a day add up to the PMS card total of the daily summary.
{{ config(meta={'dagster': {'ref': {'name': 'cashier_shifts'}}}) }}
with shifts as (
    select hotel_id, business_date, sum(pms_card_cents) as pms
    from {{ ref('cashier_shifts') }} group by hotel_id, business_date
),
summary as (
    select hotel_id, business_date, sum(pms_cents) as pms
    from {{ ref('daily_summary') }} group by hotel_id, business_date
)
select s.hotel_id, s.business_date, s.pms as summary_pms, sh.pms as shifts_pms
from summary as s
left join shifts as sh on sh.hotel_id = s.hotel_id and sh.business_date = s.business_date
where coalesce(sh.pms, 0) <> s.pms
