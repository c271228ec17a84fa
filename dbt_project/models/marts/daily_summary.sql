{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_window() }}",
) }}
-- Per hotel, business date and card scheme (the seed's CLIENT / RUBS / DIVERS / JCB / AMEX /
-- RECONCILIATION screen): what the PMS posted, what the terminals and the PSP took, what the
-- acquirers remitted, and the écart (PMS minus money actually taken). Every scheme of a day
-- is listed, zeros included, so a day reads the same whatever its cards.

with ledger as (
    select * from {{ ref('reconciled_ledger') }} where {{ window_filter() }}
),

open_exceptions as (
    select e.hotel_id, e.business_date, coalesce(l.card_scheme, 'OTHER') as card_scheme, e.is_open
    from {{ ref('stg_exceptions') }} as e
    left join {{ ref('reconciled_ledger') }} as l
        on l.hotel_id = e.hotel_id and l.record_kind = e.record_kind and l.record_id = e.record_id
    where {{ window_filter('e.business_date', 'e.hotel_id') }}
),

days as (
    select distinct hotel_id, business_date from ledger
    union
    select distinct hotel_id, business_date from open_exceptions
),

schemes as (
    select distinct card_scheme, scheme_label, scheme_order from {{ ref('card_schemes') }}
),

money as (
    select
        hotel_id,
        business_date,
        card_scheme,
        {{ cents_sum("case when record_kind = 'pms_posting' then amount_cents end") }} as pms_cents,
        {{ cents_sum("case when record_kind = 'tpe_transaction' and is_money then amount_cents end") }} as tpe_cents,
        {{ cents_sum("case when record_kind = 'psp_transaction' and is_money then amount_cents end") }} as psp_cents,
        {{ cents_sum("case when record_kind = 'remittance_line' and is_money then amount_cents end") }} as remitted_cents,
        count(case when record_kind = 'pms_posting' then 1 end) as pms_count,
        count(case when record_kind = 'tpe_transaction' and is_money then 1 end) as tpe_count,
        count(case when record_kind = 'psp_transaction' and is_money then 1 end) as psp_count,
        count(case when record_kind = 'remittance_line' and is_money then 1 end) as remitted_count,
        count(case when record_kind = 'pms_posting' and match_id is not null then 1 end) as matched_count
    from ledger
    group by hotel_id, business_date, card_scheme
),

exception_counts as (
    select
        hotel_id,
        business_date,
        card_scheme,
        count(*) as exception_count,
        count(case when is_open then 1 end) as open_exception_count
    from open_exceptions
    group by hotel_id, business_date, card_scheme
)

select
    d.hotel_id,
    d.business_date,
    s.card_scheme,
    s.scheme_label,
    s.scheme_order,
    coalesce(m.pms_cents, 0) as pms_cents,
    coalesce(m.tpe_cents, 0) as tpe_cents,
    coalesce(m.psp_cents, 0) as psp_cents,
    coalesce(m.remitted_cents, 0) as remitted_cents,
    coalesce(m.pms_cents, 0) - coalesce(m.tpe_cents, 0) - coalesce(m.psp_cents, 0) as ecart_cents,
    coalesce(m.tpe_cents, 0) - coalesce(m.remitted_cents, 0) as not_remitted_cents,
    cast(coalesce(m.pms_count, 0) as bigint) as pms_count,
    cast(coalesce(m.tpe_count, 0) as bigint) as tpe_count,
    cast(coalesce(m.psp_count, 0) as bigint) as psp_count,
    cast(coalesce(m.remitted_count, 0) as bigint) as remitted_count,
    cast(coalesce(m.matched_count, 0) as bigint) as matched_count,
    cast(coalesce(x.exception_count, 0) as bigint) as exception_count,
    cast(coalesce(x.open_exception_count, 0) as bigint) as open_exception_count
from days as d
cross join schemes as s
left join money as m
    on m.hotel_id = d.hotel_id and m.business_date = d.business_date and m.card_scheme = s.card_scheme
left join exception_counts as x
    on x.hotel_id = d.hotel_id and x.business_date = d.business_date and x.card_scheme = s.card_scheme
