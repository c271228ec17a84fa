-- Balance identity: the batches of a day remit what the daily summary says was remitted.
{{ config(meta={'dagster': {'ref': {'name': 'remittance_list'}}}) }}
with batches as (
    select hotel_id, business_date, sum(gross_cents) as remitted
    from {{ ref('remittance_list') }} group by hotel_id, business_date
),
summary as (
    select hotel_id, business_date, sum(remitted_cents) as remitted
    from {{ ref('daily_summary') }} group by hotel_id, business_date
)
select s.hotel_id, s.business_date, s.remitted as summary_remitted, b.remitted as batches_remitted
from summary as s
left join batches as b on b.hotel_id = s.hotel_id and b.business_date = s.business_date
where coalesce(b.remitted, 0) <> s.remitted
