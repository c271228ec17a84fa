-- An exception is open until a person (or a later run) resolves it; manual decisions live in the
-- matching engine's table, so they survive any rebuild of the marts.
select
    e.exception_id,
    e.hotel_id,
    e.business_date,
    e.code,
    coalesce(k.record_kind, e.record_kind) as record_kind,
    e.record_id,
    e.amount_cents,
    e.detail,
    e.resolved_at,
    e.resolution,
    e.resolved_at is null and e.resolution is null as is_open
from {{ source('warehouse', 'exceptions') }} as e
left join {{ ref('record_kinds') }} as k on k.alias = e.record_kind
