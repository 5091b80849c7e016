{#- A 64-bit float. dbt.type_float() is a 32-bit REAL in DuckDB, which would round
    coordinates and shares differently from PostgreSQL's double precision. -#}
{% macro auth0_type_double() -%}
    double precision
{%- endmacro %}

{#- A text column with an empty string as NULL. target-duckdb loads through CSV, where an empty
    string arrives as NULL; target-postgres keeps it. Both warehouses then hold the same. -#}
{% macro auth0_text(column) -%}
    nullif({{ column }}, '')
{%- endmacro %}
