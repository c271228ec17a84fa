{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_window() }}",
) }}
-- "Liste des remises": each remittance batch of a business date with its transactions, gross,
-- fees and net as the acquirer reported them, the terminal tickets it settles, and whether it
-- covers what the terminals recorded (every line matched, same amount, no ticket left out).

with lines as (
    select * from {{ ref('stg_remittances') }} where {{ window_filter() }}
),

-- The batch each tpe_remittance match settles: the batch of its first remittance line.
match_batch as (
    select match_id, hotel_id, business_date, provider, remittance_id
    from (
        select m.match_id, l.hotel_id, l.business_date, l.provider, l.remittance_id,
               row_number() over (partition by m.match_id order by l.remittance_line_id) as line_no
        from {{ ref('stg_card_matches') }} as m
        join lines as l on l.remittance_line_id = m.record_id and l.hotel_id = m.hotel_id
        where m.leg = 'tpe_remittance' and m.side = 'right'
    ) as first_line
    where line_no = 1
),

terminal_side as (
    select b.hotel_id, b.business_date, b.provider, b.remittance_id,
           {{ cents_sum('t.amount_cents') }} as terminal_cents,
           count(*) as terminal_count
    from match_batch as b
    join {{ ref('stg_card_matches') }} as m
        on m.match_id = b.match_id and m.leg = 'tpe_remittance' and m.side = 'left'
    join {{ ref('stg_tpe_transactions') }} as t on t.tpe_txn_id = m.record_id and t.hotel_id = m.hotel_id
    group by b.hotel_id, b.business_date, b.provider, b.remittance_id
),

line_matches as (
    select distinct m.record_id
    from {{ ref('stg_card_matches') }} as m
    where m.leg = 'tpe_remittance' and m.side = 'right'
),

batch_terminals as (
    select distinct hotel_id, business_date, provider, remittance_id, terminal_id
    from lines where terminal_id is not null
),

-- Tickets of the batch's terminals on that business date that no remittance settles.
left_out as (
    select bt.hotel_id, bt.business_date, bt.provider, bt.remittance_id,
           count(*) as not_remitted_count, {{ cents_sum('t.amount_cents') }} as not_remitted_cents
    from batch_terminals as bt
    join {{ ref('stg_tpe_transactions') }} as t
        on t.hotel_id = bt.hotel_id and t.business_date = bt.business_date and t.terminal_id = bt.terminal_id
    where t.is_money and not exists (
        select 1 from {{ ref('stg_card_matches') }} as m
        where m.leg = 'tpe_remittance' and m.side = 'left' and m.record_id = t.tpe_txn_id
    )
    group by bt.hotel_id, bt.business_date, bt.provider, bt.remittance_id
),

batches as (
    select
        l.hotel_id,
        l.business_date,
        l.provider,
        l.remittance_id,
        min(l.remittance_date) as remittance_date,
        max(l.value_date) as value_date,
        string_agg(distinct l.terminal_id, ',' order by l.terminal_id) as terminal_ids,
        min(l.currency) as currency,
        count(*) as line_count,
        count(case when l.is_money then 1 end) as transaction_count,
        {{ cents_sum('case when l.is_money then l.gross_cents end') }} as gross_cents,
        {{ cents_sum("case when l.line_type in ('chargeback', 'chargeback_reversal') then l.gross_cents end") }}
            as chargeback_cents,
        {{ cents_sum('l.fee_cents') }} as fee_cents,
        {{ cents_sum('l.net_cents') }} as net_cents,
        count(case when l.is_money and lm.record_id is null then 1 end) as unmatched_line_count
    from lines as l
    left join line_matches as lm on lm.record_id = l.remittance_line_id
    group by l.hotel_id, l.business_date, l.provider, l.remittance_id
)

select
    b.hotel_id,
    b.business_date,
    b.provider,
    b.remittance_id,
    b.remittance_date,
    b.value_date,
    b.terminal_ids,
    b.currency,
    cast(b.line_count as bigint) as line_count,
    cast(b.transaction_count as bigint) as transaction_count,
    b.gross_cents,
    b.chargeback_cents,
    b.fee_cents,
    b.net_cents,
    coalesce(t.terminal_cents, 0) as terminal_cents,
    cast(coalesce(t.terminal_count, 0) as bigint) as terminal_count,
    b.gross_cents - coalesce(t.terminal_cents, 0) as difference_cents,
    cast(b.unmatched_line_count as bigint) as unmatched_line_count,
    cast(coalesce(o.not_remitted_count, 0) as bigint) as not_remitted_count,
    coalesce(o.not_remitted_cents, 0) as not_remitted_cents,
    b.gross_cents = coalesce(t.terminal_cents, 0)
        and b.unmatched_line_count = 0
        and coalesce(o.not_remitted_count, 0) = 0 as covers_terminals
from batches as b
left join terminal_side as t
    on t.hotel_id = b.hotel_id and t.business_date = b.business_date
    and t.provider = b.provider and t.remittance_id = b.remittance_id
left join left_out as o
    on o.hotel_id = b.hotel_id and o.business_date = b.business_date
    and o.provider = b.provider and o.remittance_id = b.remittance_id
