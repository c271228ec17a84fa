select
    hotel_id,
    trx_code,
    label,
    coalesce(group_name, '(no group)') as group_name,
    coalesce(is_payment, false) as is_payment,
    card_brand,
    channel
from {{ source('warehouse', 'trx_codes') }}
