-- Money taken online: paid sales and captures, and refunds or chargebacks that went through.
-- Authorisations, pending, refused and cancelled events are kept but are not money.
select
    p.psp_txn_id,
    p.hotel_id,
    p.business_date,
    p.event_at,
    p.provider,
    p.order_id,
    p.link_id,
    p.psp_reference,
    p.operation,
    p.status,
    p.amount_cents,
    p.currency,
    p.card_brand,
    coalesce(s.card_scheme, 'OTHER') as card_scheme,
    p.card_last4,
    (p.operation in ('sale', 'capture') and p.status = 'paid')
        or (p.operation in ('refund', 'chargeback') and p.status in ('paid', 'refunded')) as is_money,
    p.source_file
from {{ source('warehouse', 'psp_transactions') }} as p
left join {{ ref('card_schemes') }} as s on s.card_brand = p.card_brand
