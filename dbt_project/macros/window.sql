{# The business-date window (and hotels) a run rebuilds: [min_date, max_date), from `--vars`. #}
{% macro in_window(date_column='business_date', hotel_column='hotel_id') -%}
    {{ date_column }} >= cast('{{ var("min_date") }}' as date)
    and {{ date_column }} < cast('{{ var("max_date") }}' as date)
    {%- set hotels = var("hotels", []) %}
    {%- if hotels %}
    and {{ hotel_column }} in ({% for h in hotels %}'{{ h | replace("'", "''") }}'{% if not loop.last %}, {% endif %}{% endfor %})
    {%- endif %}
{%- endmacro %}

{# Pre-hook of the incremental marts: drop the window before it is inserted again, so a re-run
   replaces rows that no longer exist (a corrected file) instead of leaving them behind. #}
{% macro delete_window(date_column='business_date') -%}
    {%- if is_incremental() -%}
    delete from {{ this }} where {{ in_window(date_column) }}
    {%- else -%}
    select 1
    {%- endif -%}
{%- endmacro %}

{# Only the window on incremental runs; a first build (or --full-refresh) takes every date. #}
{% macro window_filter(date_column='business_date', hotel_column='hotel_id') -%}
    {%- if is_incremental() -%}{{ in_window(date_column, hotel_column) }}{%- else -%}true{%- endif -%}
{%- endmacro %}
