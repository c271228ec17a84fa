select hotel_id, name as hotel_name, timezone, currency, night_audit_time
from {{ source('warehouse', 'hotels') }}
