-- The exceptions a person still has to look at, oldest first, across all business dates.
-- Age is counted in days up to the latest business date reconciled (not today's clock), so
-- re-running a period gives the same table bit for bit.

with open_exceptions as (
    select * from {{ ref('stg_exceptions') }} where is_open
),

as_of as (
    select max(business_date) as as_of_date from {{ ref('daily_summary') }}
)

select
    e.exception_id,
    e.hotel_id,
    e.business_date,
    e.code,
    e.record_kind,
    e.record_id,
    e.amount_cents,
    coalesce(l.card_scheme, 'OTHER') as card_scheme,
    l.card_last4,
    l.occurred_at,
    e.detail,
    a.as_of_date,
    {{ days_between('e.business_date', 'a.as_of_date') }} as age_days
from open_exceptions as e
cross join as_of as a
left join {{ ref('reconciled_ledger') }} as l
    on l.hotel_id = e.hotel_id and l.record_kind = e.record_kind and l.record_id = e.record_id
order by e.business_date, e.hotel_id, e.exception_id
