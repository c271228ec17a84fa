-- Sale and refund lines settle card transactions (compared at gross, refunds negative, gross
-- rebuilt from net + fee when a report gives only those); fees, payouts, chargebacks and
-- adjustments are listed but are not terminal money.
select
    r.remittance_line_id,
    r.hotel_id,
    r.business_date,
    r.provider,
    coalesce(r.remittance_id, '(no batch)') as remittance_id,
    r.payout_id,
    r.merchant_id,
    r.terminal_id,
    r.line_type,
    r.txn_at,
    r.remittance_date,
    r.value_date,
    r.card_brand,
    coalesce(s.card_scheme, 'OTHER') as card_scheme,
    r.card_last4,
    case when r.line_type = 'refund' then -abs(coalesce(r.gross_cents, r.net_cents + coalesce(r.fee_cents, 0)))
         else coalesce(r.gross_cents, r.net_cents + coalesce(r.fee_cents, 0)) end as gross_cents,
    r.fee_cents,
    r.net_cents,
    r.currency,
    r.remise_ref,
    r.line_type in ('sale', 'refund') and coalesce(r.gross_cents, r.net_cents) is not null as is_money,
    r.source_file
from {{ source('warehouse', 'remittances') }} as r
left join {{ ref('card_schemes') }} as s on s.card_brand = r.card_brand
