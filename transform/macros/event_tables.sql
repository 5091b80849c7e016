{#- The tap's event tables that exist in the source schema: `user_logs`, and `tenant_logs`
    (events of no user) when that stream was selected by a tap that has it. Each comes with its
    rank: when one log_id is in both, the lower rank's copy is kept. -#}

{% macro auth0_event_tables() %}
    {%- set found = [] -%}
    {%- set schema = source('auth0', 'user_logs').schema -%}
    {%- for stream in ['user_logs', 'tenant_logs'] -%}
        {%- set declared = source('auth0', stream) -%}
        {%- if execute -%}
            {%- set relation = adapter.get_relation(
                database=declared.database, schema=declared.schema,
                identifier=declared.identifier) -%}
            {%- if relation is not none -%}
                {%- do found.append({'stream': stream, 'rank': loop.index, 'relation': relation}) -%}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if execute and not found -%}
        {{ exceptions.raise_compiler_error(
            "No table user_logs in schema " ~ schema
            ~ ": run the tap into this warehouse first, or set the var auth0_source_schema") }}
    {%- endif -%}
    {{ return(found) }}
{% endmacro %}
