{#- JSON access differs by warehouse: target-duckdb writes `json` columns, target-postgres
    `jsonb`. One macro per adapter, chosen by adapter.dispatch. `path` is a list of keys. -#}

{% macro auth0_json_text(column, path) -%}
    {{ return(adapter.dispatch('auth0_json_text', 'tap_auth0_userlogs')(column, path)) }}
{%- endmacro %}

{% macro duckdb__auth0_json_text(column, path) -%}
    json_extract_string({{ column }}, '$."{{ path | join('"."') }}"')
{%- endmacro %}

{% macro postgres__auth0_json_text(column, path) -%}
    ({{ column }} #>> '{{ "{" ~ path | join(",") ~ "}" }}')
{%- endmacro %}

{% macro default__auth0_json_text(column, path) -%}
    {{ exceptions.raise_compiler_error(
        "JSON access is written for DuckDB and PostgreSQL, not " ~ target.type) }}
{%- endmacro %}

{#- A number inside a JSON column; the tap's schema types latitude and longitude as numbers. -#}
{% macro auth0_json_number(column, path) -%}
    cast({{ auth0_json_text(column, path) }} as {{ auth0_type_double() }})
{%- endmacro %}
