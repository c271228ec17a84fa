{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_window() }}",
) }}
-- Per cashier and shift of a business date: the card payments the cashier posted in the PMS,
-- what the terminals took for them, the écart and the open exceptions. Shift start times are
-- data (seed shift_starts, per hotel or '*'), read in the hotel's local time.

with postings as (
    select p.*, {{ local_time('p.posted_at', 'h.timezone') }} as posted_local
    from {{ ref('stg_pms_postings') }} as p
    join {{ ref('stg_hotels') }} as h on h.hotel_id = p.hotel_id
    where p.is_card and {{ window_filter('p.business_date', 'p.hotel_id') }}
),

hotel_shifts as (
    select h.hotel_id, s.shift, s.starts_at
    from {{ ref('stg_hotels') }} as h
    join {{ ref('shift_starts') }} as s on s.hotel_id = h.hotel_id
    union all
    select h.hotel_id, s.shift, s.starts_at
    from {{ ref('stg_hotels') }} as h
    join {{ ref('shift_starts') }} as s on s.hotel_id = '*'
    where not exists (select 1 from {{ ref('shift_starts') }} as own where own.hotel_id = h.hotel_id)
),

-- A posting belongs to the shift that started last before it (wrapping round midnight).
posting_shift as (
    select posting_id, shift, starts_at
    from (
        select
            p.posting_id,
            s.shift,
            s.starts_at,
            row_number() over (
                partition by p.posting_id
                order by mod(
                    cast(extract(hour from p.posted_local) as integer) * 60
                    + cast(extract(minute from p.posted_local) as integer)
                    - (cast(substr(s.starts_at, 1, 2) as integer) * 60 + cast(substr(s.starts_at, 4, 2) as integer))
                    + 1440, 1440)
            ) as nearest
        from postings as p
        join hotel_shifts as s on s.hotel_id = p.hotel_id
    ) as ranked
    where nearest = 1
),

-- The terminal money of each PMS-terminal match goes to the cashier of its first posting.
match_owner as (
    select match_id, record_id as posting_id
    from (
        select match_id, record_id, row_number() over (partition by match_id order by record_id) as n
        from {{ ref('stg_card_matches') }}
        where leg = 'pms_tpe' and side = 'left'
    ) as ranked
    where n = 1
),

match_terminal as (
    select o.posting_id, {{ cents_sum('t.amount_cents') }} as tpe_cents
    from match_owner as o
    join {{ ref('stg_card_matches') }} as m on m.match_id = o.match_id and m.leg = 'pms_tpe' and m.side = 'right'
    join {{ ref('stg_tpe_transactions') }} as t on t.tpe_txn_id = m.record_id
    group by o.posting_id
),

ledger as (
    select record_id, match_id, open_exception_codes
    from {{ ref('reconciled_ledger') }}
    where record_kind = 'pms_posting'
)

select
    p.hotel_id,
    p.business_date,
    p.cashier_id,
    max(p.cashier_name) as cashier_name,
    s.shift,
    s.starts_at as shift_starts_at,
    cast(count(*) as bigint) as posting_count,
    {{ cents_sum('p.amount_cents') }} as pms_card_cents,
    {{ cents_sum("case when p.channel = 'terminal' then p.amount_cents end") }} as pms_terminal_cents,
    {{ cents_sum('mt.tpe_cents') }} as tpe_cents,
    {{ cents_sum("case when p.channel = 'terminal' then p.amount_cents end") }} - {{ cents_sum('mt.tpe_cents') }}
        as ecart_cents,
    cast(count(case when l.match_id is null then 1 end) as bigint) as unmatched_count,
    cast(count(case when l.open_exception_codes <> '' then 1 end) as bigint) as exception_count
from postings as p
join posting_shift as s on s.posting_id = p.posting_id
left join match_terminal as mt on mt.posting_id = p.posting_id
left join ledger as l on l.record_id = p.posting_id
group by p.hotel_id, p.business_date, p.cashier_id, s.shift, s.starts_at
