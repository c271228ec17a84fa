-- The mart's money figures are the matching engine's own (per hotel, business date and card
-- family): two readings of the same day must not disagree. A warning, so the finance views
-- still build and show where they differ.
{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'daily_summary'}}}) }}
with mart as (
    select hotel_id, business_date, card_scheme, pms_cents, tpe_cents, psp_cents, remitted_cents, ecart_cents
    from {{ ref('daily_summary') }}
),
engine as (
    select e.hotel_id, e.business_date, e.card_brand as card_scheme, e.pms_cents, e.tpe_cents, e.psp_cents,
           e.remitted_cents, e.ecart_cents
    from {{ source('warehouse', 'daily_summary') }} as e
    where exists (select 1 from mart as m where m.hotel_id = e.hotel_id and m.business_date = e.business_date)
)
select coalesce(m.hotel_id, e.hotel_id) as hotel_id, coalesce(m.business_date, e.business_date) as business_date,
       coalesce(m.card_scheme, e.card_scheme) as card_scheme,
       m.ecart_cents as mart_ecart_cents, e.ecart_cents as engine_ecart_cents
from mart as m
full outer join engine as e
    on e.hotel_id = m.hotel_id and e.business_date = m.business_date and e.card_scheme = m.card_scheme
where coalesce(m.pms_cents, 0) <> coalesce(e.pms_cents, 0) or coalesce(m.tpe_cents, 0) <> coalesce(e.tpe_cents, 0)
   or coalesce(m.psp_cents, 0) <> coalesce(e.psp_cents, 0)
   or coalesce(m.remitted_cents, 0) <> coalesce(e.remitted_cents, 0)
   or coalesce(m.ecart_cents, 0) <> coalesce(e.ecart_cents, 0)
