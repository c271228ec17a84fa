-- A pre-authorisation is not money; sales, completions, refunds and cancellations are. Refunds
-- and cancellations count negative whatever sign the journal wrote (as the matching engine does).
select
    t.tpe_txn_id,
    t.hotel_id,
    t.business_date,
    t.txn_at,
    t.terminal_id,
    t.terminal_label,
    t.merchant_id,
    t.txn_type,
    case when t.txn_type in ('refund', 'cancel') then -abs(t.amount_cents) else t.amount_cents end as amount_cents,
    t.currency,
    t.card_brand,
    coalesce(s.card_scheme, 'OTHER') as card_scheme,
    t.card_last4,
    t.auth_code,
    t.remise_ref,
    t.tip_cents,
    t.amount_cents is not null and t.txn_type in ('sale', 'refund', 'completion', 'cancel') as is_money,
    t.source_file
from {{ source('warehouse', 'tpe_transactions') }} as t
left join {{ ref('card_schemes') }} as s on s.card_brand = t.card_brand
