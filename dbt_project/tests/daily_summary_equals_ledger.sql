-- Balance identity: per hotel and business date, the summary's totals are the ledger's.
{{ config(meta={'dagster': {'ref': {'name': 'daily_summary'}}}) }}
with summary as (
    select hotel_id, business_date,
           sum(pms_cents) as pms, sum(tpe_cents) as tpe, sum(psp_cents) as psp, sum(remitted_cents) as remitted
    from {{ ref('daily_summary') }}
    group by hotel_id, business_date
),
ledger as (
    select hotel_id, business_date,
           sum(case when record_kind = 'pms_posting' then amount_cents else 0 end) as pms,
           sum(case when record_kind = 'tpe_transaction' and is_money then amount_cents else 0 end) as tpe,
           sum(case when record_kind = 'psp_transaction' and is_money then amount_cents else 0 end) as psp,
           sum(case when record_kind = 'remittance_line' and is_money then amount_cents else 0 end) as remitted
    from {{ ref('reconciled_ledger') }}
    group by hotel_id, business_date
)
select coalesce(s.hotel_id, l.hotel_id) as hotel_id, coalesce(s.business_date, l.business_date) as business_date
from summary as s
full outer join ledger as l on l.hotel_id = s.hotel_id and l.business_date = s.business_date
where coalesce(s.pms, 0) <> coalesce(l.pms, 0) or coalesce(s.tpe, 0) <> coalesce(l.tpe, 0)
   or coalesce(s.psp, 0) <> coalesce(l.psp, 0) or coalesce(s.remitted, 0) <> coalesce(l.remitted, 0)
