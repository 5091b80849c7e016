{#- A 64-bit float. dbt.type_float() is a 32-bit REAL in DuckDB, which would round
    coordinates and shares differently from PostgreSQL's double precision. -#}
{% macro auth0_type_double() -%}
    double precision
{%- endmacro %}
