{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_window() }}",
) }}
-- One row per card posting, terminal ticket, remittance line and PSP event of a business date,
-- with the match that settles it (its money leg), the remittance batch of a ticket, the open
-- exception codes and one status. Deterministic: no load times, lists sorted.

with records as (
    select 'pms_posting' as record_kind, posting_id as record_id, hotel_id, business_date,
           posted_at as occurred_at, trx_code as record_type, amount_cents, cast(null as bigint) as fee_cents,
           cast(null as bigint) as net_cents, currency, card_brand, card_scheme, card_last4, channel,
           cast(null as varchar) as terminal_id, cashier_id, reference, is_card as is_money, source_file
    from {{ ref('stg_pms_postings') }}
    where is_card and {{ window_filter() }}
    union all
    select 'tpe_transaction', tpe_txn_id, hotel_id, business_date, txn_at, txn_type, amount_cents, null, null,
           currency, card_brand, card_scheme, card_last4, 'terminal', terminal_id, null, remise_ref, is_money,
           source_file
    from {{ ref('stg_tpe_transactions') }}
    where {{ window_filter() }}
    union all
    select 'remittance_line', remittance_line_id, hotel_id, business_date, txn_at, line_type, gross_cents,
           fee_cents, net_cents, currency, card_brand, card_scheme, card_last4, 'remittance', terminal_id, null,
           remittance_id, is_money, source_file
    from {{ ref('stg_remittances') }}
    where {{ window_filter() }}
    union all
    select 'psp_transaction', psp_txn_id, hotel_id, business_date, event_at, operation || ':' || status,
           amount_cents, null, null, currency, card_brand, card_scheme, card_last4, 'psp', null, null, order_id,
           is_money, source_file
    from {{ ref('stg_psp_transactions') }}
    where {{ window_filter() }}
),

-- Which leg settles each kind of record (its money leg), and the remittance leg of a ticket.
legs (record_kind, leg, side, purpose) as (
    values
        ('pms_posting', 'pms_tpe', 'left', 'money'),
        ('pms_posting', 'pms_psp', 'left', 'money'),
        ('tpe_transaction', 'pms_tpe', 'right', 'money'),
        ('tpe_transaction', 'tpe_remittance', 'left', 'remittance'),
        ('remittance_line', 'tpe_remittance', 'right', 'money'),
        ('psp_transaction', 'pms_psp', 'right', 'money')
),

record_matches as (
    select r.hotel_id, r.record_kind, r.record_id, l.purpose, l.side, m.match_id, m.leg, m.stage, m.rule,
           m.time_delta_s, m.amount_delta_cents, m.flags
    from records as r
    join legs as l on l.record_kind = r.record_kind
    join {{ ref('stg_card_matches') }} as m
        on m.hotel_id = r.hotel_id and m.leg = l.leg and m.side = l.side and m.record_id = r.record_id
),

-- A record with no card brand (a PSP posting on a code with no brand) takes the scheme of what
-- settles it: its first match partner's, as the matching engine does for its summary.
brands as (
    select 'pms_posting' as record_kind, posting_id as record_id, card_brand from {{ ref('stg_pms_postings') }}
    union all
    select 'tpe_transaction', tpe_txn_id, card_brand from {{ ref('stg_tpe_transactions') }}
    union all
    select 'remittance_line', remittance_line_id, card_brand from {{ ref('stg_remittances') }}
    union all
    select 'psp_transaction', psp_txn_id, card_brand from {{ ref('stg_psp_transactions') }}
),

partner_scheme as (
    select record_kind, record_id, card_scheme
    from (
        select rm.record_kind, rm.record_id, s.card_scheme,
               row_number() over (partition by rm.record_kind, rm.record_id order by other.record_id) as n
        from record_matches as rm
        join {{ ref('stg_card_matches') }} as other
            on other.match_id = rm.match_id and other.leg = rm.leg and other.side <> rm.side
        join legs as ol on ol.leg = other.leg and ol.side = other.side
        join brands as b on b.record_kind = ol.record_kind and b.record_id = other.record_id
        join {{ ref('card_schemes') }} as s on s.card_brand = b.card_brand
        where rm.purpose = 'money'
    ) as ranked
    where n = 1
),

-- The remittance batch a ticket was settled in: the batch of the lines on the other side of its match.
remitted_in as (
    select rm.hotel_id, rm.record_id, min(rl.remittance_id) as remittance_id
    from record_matches as rm
    join {{ ref('stg_card_matches') }} as other
        on other.match_id = rm.match_id and other.leg = 'tpe_remittance' and other.side = 'right'
    join {{ ref('stg_remittances') }} as rl on rl.remittance_line_id = other.record_id
    where rm.purpose = 'remittance'
    group by rm.hotel_id, rm.record_id
),

record_exceptions as (
    select
        hotel_id,
        record_kind,
        record_id,
        string_agg(case when is_open then code end, ',' order by case when is_open then code end) as open_codes,
        sum(case when is_open then 0 else 1 end) as resolved_count
    from {{ ref('stg_exceptions') }}
    group by hotel_id, record_kind, record_id
)

select
    r.hotel_id,
    r.business_date,
    r.record_kind,
    r.record_id,
    r.occurred_at,
    r.record_type,
    r.amount_cents,
    r.fee_cents,
    r.net_cents,
    r.currency,
    r.card_brand,
    case when r.card_brand is null then coalesce(ps.card_scheme, 'OTHER') else r.card_scheme end as card_scheme,
    r.card_last4,
    r.channel,
    r.terminal_id,
    r.cashier_id,
    r.reference,
    r.is_money,
    money.match_id,
    money.leg as match_leg,
    money.stage as match_stage,
    money.rule as match_rule,
    money.time_delta_s,
    money.amount_delta_cents,
    coalesce(money.flags, '') as flags,
    remit.match_id as remittance_match_id,
    remitted_in.remittance_id as remitted_in_batch,
    coalesce(x.open_codes, '') as open_exception_codes,
    case
        when x.open_codes is not null then 'exception'
        when money.match_id is not null then 'matched'
        when coalesce(x.resolved_count, 0) > 0 then 'resolved'
        when not r.is_money then 'out_of_scope'
        else 'unmatched'
    end as status,
    r.source_file
from records as r
left join record_matches as money
    on money.hotel_id = r.hotel_id and money.record_kind = r.record_kind
    and money.record_id = r.record_id and money.purpose = 'money'
left join record_matches as remit
    on remit.hotel_id = r.hotel_id and remit.record_kind = r.record_kind
    and remit.record_id = r.record_id and remit.purpose = 'remittance'
left join remitted_in on remitted_in.hotel_id = r.hotel_id and remitted_in.record_id = r.record_id
    and r.record_kind = 'tpe_transaction'
left join partner_scheme as ps on ps.record_kind = r.record_kind and ps.record_id = r.record_id
left join record_exceptions as x
    on x.hotel_id = r.hotel_id and x.record_kind = r.record_kind and x.record_id = r.record_id
