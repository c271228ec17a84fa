{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_window() }}",
) }}
-- Postings per transaction code and department group (the "RUBS / Libellé / Groupes" table),
-- per hotel and business date: how many, how much, and how much of it is card money.

select
    p.hotel_id,
    p.business_date,
    coalesce(c.group_name, '(unmapped code)') as group_name,
    p.trx_code,
    coalesce(c.label, p.trx_code) as label,
    coalesce(c.is_payment, false) as is_payment,
    min(p.channel) as channel,
    cast(count(*) as bigint) as posting_count,
    {{ cents_sum('p.amount_cents') }} as amount_cents,
    {{ cents_sum('case when p.is_card then p.amount_cents end') }} as card_cents
from {{ ref('stg_pms_postings') }} as p
left join {{ ref('stg_trx_codes') }} as c on c.hotel_id = p.hotel_id and c.trx_code = p.trx_code
where {{ window_filter('p.business_date', 'p.hotel_id') }}
group by p.hotel_id, p.business_date, coalesce(c.group_name, '(unmapped code)'), p.trx_code,
         coalesce(c.label, p.trx_code), coalesce(c.is_payment, false)
