-- A pre-authorisation is not money; sales, completions, refunds and cancellations are (signed).
select
    t.tpe_txn_id,
    t.hotel_id,
    t.business_date,
    t.txn_at,
    t.terminal_id,
    t.terminal_label,
    t.merchant_id,
    t.txn_type,
    t.amount_cents,
    t.currency,
    t.card_brand,
    coalesce(s.card_scheme, 'OTHER') as card_scheme,
    t.card_last4,
    t.auth_code,
    t.remise_ref,
    t.tip_cents,
    t.txn_type <> 'preauth' as is_money,
    t.source_file
from {{ source('warehouse', 'tpe_transactions') }} as t
left join {{ ref('card_schemes') }} as s on s.card_brand = t.card_brand
