{# SQL that differs between DuckDB (default) and PostgreSQL, in one place. #}

{# A sum of cents stays BIGINT (DuckDB would widen to HUGEINT, PostgreSQL to NUMERIC). #}
{% macro cents_sum(expression) -%}
    cast(coalesce(sum({{ expression }}), 0) as bigint)
{%- endmacro %}

{# A list of codes as one sorted, comma-separated text ('' when empty), so it compares bit for bit. #}
{% macro sorted_list_text(column) -%}
    {%- if target.type == 'postgres' -%}
    array_to_string(array(select x from unnest({{ column }}) as t(x) order by x), ',')
    {%- else -%}
    array_to_string(list_sort({{ column }}), ',')
    {%- endif -%}
{%- endmacro %}

{# Local wall-clock time of a UTC timestamp in a hotel's zone. #}
{% macro local_time(ts, zone) -%}
    ({{ ts }} at time zone {{ zone }})
{%- endmacro %}

{# Whole days from one date to another. #}
{% macro days_between(start, end) -%}
    cast(({{ end }} - {{ start }}) as integer)
{%- endmacro %}
