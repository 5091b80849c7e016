{#- Every event of the tap's streams once, typed. Incremental: a build reads again, per tenant
    and stream, the events from the look-back before the newest one it holds (as the tap does)
    and replaces those it already had. -#}
{{
    config(
        materialized='incremental',
        unique_key=['tenant_domain', 'log_id'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}

{#- The tap's columns this project reads, by name: the two tables may order them differently. -#}
{%- set raw_columns = [
    'tenant_domain', 'log_id', 'date', 'type', 'description', 'user_id', 'user_name',
    'connection', 'connection_id', 'client_id', 'client_name', 'ip', 'hostname', 'audience',
    'strategy', 'strategy_type', 'user_agent', 'tenant_name', 'organization_id',
    'organization_name', 'location_info', 'details',
] %}
{%- set tables = auth0_event_tables() %}
{%- set risk = ['riskAssessment'] %}
{%- set assessments = ['riskAssessment', 'assessments'] %}

with
{% if is_incremental() %}
reread_from as (
    select
        tenant_domain,
        source_stream,
        {{ dbt.dateadd('minute', -1 * var('auth0_lookback_minutes'), 'max(event_at)') }} as since
    from {{ this }}
    group by tenant_domain, source_stream
),
{% endif %}

loaded as (
    {%- for table in tables %}
    select
        '{{ table.stream }}' as source_stream,
        {{ table.rank }} as stream_rank,
        {%- for column in raw_columns %}
        src.{{ column }},
        {%- endfor %}
        -- target-duckdb folds the name to lower case, target-postgres keeps it.
        src.{{ adapter.quote('isMobile') }} as is_mobile
    from {{ table.relation }} as src
    {%- if is_incremental() %}
    left join reread_from
        on reread_from.tenant_domain = src.tenant_domain
        and reread_from.source_stream = '{{ table.stream }}'
    where reread_from.since is null or src.date >= reread_from.since
    {%- endif %}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

ranked as (
    select
        loaded.*,
        row_number() over (
            partition by loaded.tenant_domain, loaded.log_id order by loaded.stream_rank
        ) as copy_number
    from loaded
    {%- if is_incremental() %}
    -- A copy read again from a later stream never replaces one held from an earlier stream,
    -- as a full refresh would not let it.
    left join {{ this }} as held
        on held.tenant_domain = loaded.tenant_domain
        and held.log_id = loaded.log_id
    where not coalesce(
        case held.source_stream
            {%- for table in tables %}
            when '{{ table.stream }}' then {{ table.rank }}
            {%- endfor %}
        end < loaded.stream_rank,
        false
    )
    {%- endif %}
)

select
    tenant_domain,
    log_id,
    source_stream,
    cast(date as {{ dbt.type_timestamp() }}) as event_at,
    cast(date as date) as event_date,
    {{ dbt.date_trunc('hour', 'date') }} as event_hour,
    {{ auth0_text('type') }} as type,
    {{ auth0_text('description') }} as description,
    {{ auth0_text('user_id') }} as user_id,
    case
        when {{ auth0_text('user_id') }} is not null
            then {{ dbt.split_part('user_id', "'|'", 1) }}
    end as login_method,
    {{ auth0_text('user_name') }} as user_name,
    {{ auth0_text('connection') }} as connection,
    {{ auth0_text('connection_id') }} as connection_id,
    {{ auth0_text('client_id') }} as client_id,
    {{ auth0_text('client_name') }} as client_name,
    {{ auth0_text('ip') }} as ip,
    {{ auth0_text('hostname') }} as hostname,
    {{ auth0_text('audience') }} as audience,
    {{ auth0_text('strategy') }} as strategy,
    {{ auth0_text('strategy_type') }} as strategy_type,
    is_mobile,
    {{ auth0_text('user_agent') }} as user_agent,
    {{ auth0_text('tenant_name') }} as tenant_name,
    {{ auth0_text('organization_id') }} as organization_id,
    {{ auth0_text('organization_name') }} as organization_name,
    {{ auth0_json_text('location_info', ['country_code']) }} as country_code,
    {{ auth0_json_text('location_info', ['country_name']) }} as country_name,
    {{ auth0_json_text('location_info', ['city_name']) }} as city_name,
    {{ auth0_json_text('location_info', ['continent_code']) }} as continent_code,
    {{ auth0_json_number('location_info', ['latitude']) }} as latitude,
    {{ auth0_json_number('location_info', ['longitude']) }} as longitude,
    {{ auth0_json_text('details', risk + ['confidence']) }} as risk_confidence,
    {{ auth0_json_text('details', assessments + ['NewDevice', 'code']) }} as risk_new_device_code,
    {{ auth0_json_text('details', assessments + ['ImpossibleTravel', 'code']) }}
        as risk_impossible_travel_code,
    {{ auth0_json_text('details', assessments + ['UntrustedIP', 'code']) }}
        as risk_untrusted_ip_code,
    -- Auth0 rates each assessment's confidence that the login is genuine: low is the alarm.
    coalesce({{ auth0_json_text('details', assessments + ['NewDevice', 'confidence']) }} = 'low',
        false) as is_risk_new_device,
    coalesce(
        {{ auth0_json_text('details', assessments + ['ImpossibleTravel', 'confidence']) }} = 'low',
        false) as is_risk_impossible_travel,
    coalesce({{ auth0_json_text('details', assessments + ['UntrustedIP', 'confidence']) }} = 'low',
        false) as is_risk_untrusted_ip
from ranked
where copy_number = 1
