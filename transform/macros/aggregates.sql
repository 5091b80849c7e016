{#- How many rows meet a condition: count_if is not portable, and a bare sum() is a 128-bit
    integer in DuckDB. -#}
{% macro auth0_count_where(condition) -%}
    cast(sum(case when {{ condition }} then 1 else 0 end) as {{ dbt.type_bigint() }})
{%- endmacro %}

{#- A ratio as a float, null when there is nothing to divide by. -#}
{% macro auth0_ratio(numerator, denominator) -%}
    cast({{ numerator }} as {{ auth0_type_double() }}) / nullif({{ denominator }}, 0)
{%- endmacro %}

{#- How many events, and from how many users, usernames and IPs: each a distinct count, so
    they do not add up across rows. -#}
{% macro auth0_event_reach() -%}
    count(*) as events,
    count(distinct user_id) as distinct_users,
    count(distinct user_name) as distinct_user_names,
    count(distinct ip) as distinct_ips
{%- endmacro %}
