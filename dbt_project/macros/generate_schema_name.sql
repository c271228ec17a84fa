{# Custom schemas are used as written (`marts`, `staging`), not prefixed with the target schema:
   the marts live in `marts.*`, apart from the canonical and matching tables in the main schema. #}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
