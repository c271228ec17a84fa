select
    match_id,
    hotel_id,
    business_date,
    leg,
    side,
    record_id,
    stage,
    rule,
    time_delta_s,
    amount_delta_cents,
    {{ sorted_list_text('flags') }} as flags
from {{ source('warehouse', 'card_matches') }}
