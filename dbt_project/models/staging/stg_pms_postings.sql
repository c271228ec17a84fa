-- A card posting is a payment on a card channel (terminal, distance/VAD, PSP), or one with no
-- channel but a card on it (as the matching engine reads it); cash and internal transfers
-- (deposit ledger to folio) are kept out of money matching.
select
    p.posting_id,
    p.hotel_id,
    p.business_date,
    p.posted_at,
    p.trx_code,
    p.amount_cents,
    p.currency,
    p.card_last4,
    p.card_brand,
    coalesce(s.card_scheme, 'OTHER') as card_scheme,
    p.channel,
    p.amount_cents is not null and (
        coalesce(p.channel in ('terminal', 'distance', 'psp'), false)
        or (p.channel is null and (p.card_last4 is not null or p.card_brand is not null))
    ) as is_card,
    p.room,
    p.folio_no,
    p.reservation_id,
    p.confirmation_no,
    p.guest_name,
    coalesce(p.cashier_id, '(none)') as cashier_id,
    p.cashier_name,
    p.reference,
    p.source_file
from {{ source('warehouse', 'pms_postings') }} as p
left join {{ ref('card_schemes') }} as s on s.card_brand = p.card_brand
