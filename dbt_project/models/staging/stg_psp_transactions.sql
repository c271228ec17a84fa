-- Money taken online: paid sales and captures, and refunds that went through (negative).
-- Authorisations, pending, refused, cancelled and chargeback events are kept but are not money.
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
    case when p.operation = 'refund' then -abs(p.amount_cents) else p.amount_cents end as amount_cents,
    p.currency,
    p.card_brand,
    coalesce(s.card_scheme, 'OTHER') as card_scheme,
    p.card_last4,
    p.amount_cents is not null and (
        (p.operation in ('sale', 'capture') and p.status = 'paid')
        or (p.operation = 'refund' and p.status in ('paid', 'refunded'))
    ) as is_money,
    p.source_file
from {{ source('warehouse', 'psp_transactions') }} as p
left join {{ ref('card_schemes') }} as s on s.card_brand = p.card_brand
