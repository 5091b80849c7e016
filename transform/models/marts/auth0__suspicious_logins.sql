{#- Successful logins worth a second look, one row each: from a country the user had never
    logged in from, implying a speed between this login and the user's previous one (from
    location_info's coordinates) no traveller reaches, or rated risky by Auth0's own
    riskAssessment. -#}
with logins as (
    select
        *,
        row_number() over (
            partition by tenant_domain, user_id order by event_at, log_id
        ) as login_number,
        row_number() over (
            partition by tenant_domain, user_id, country_code order by event_at, log_id
        ) as login_number_in_country
    from {{ ref('stg_auth0__events') }}
    where is_login_success and user_id is not null
),

located as (
    -- The previous login that has coordinates, for the travel between the two.
    select
        *,
        lag(event_at) over (
            partition by tenant_domain, user_id order by event_at, log_id
        ) as previous_login_at,
        lag(country_code) over (
            partition by tenant_domain, user_id order by event_at, log_id
        ) as previous_country_code,
        lag(latitude) over (
            partition by tenant_domain, user_id order by event_at, log_id
        ) as previous_latitude,
        lag(longitude) over (
            partition by tenant_domain, user_id order by event_at, log_id
        ) as previous_longitude
    from logins
    where latitude is not null and longitude is not null
),

travel as (
    select
        tenant_domain,
        log_id,
        previous_login_at,
        previous_country_code,
        {{ auth0_haversine_km('previous_latitude', 'previous_longitude', 'latitude', 'longitude') }}
            as distance_km,
        {{ dbt.datediff('previous_login_at', 'event_at', 'second') }} as seconds_between
    from located
    where previous_login_at is not null
),

assessed as (
    select
        logins.*,
        travel.previous_login_at,
        travel.previous_country_code,
        travel.distance_km,
        cast(travel.seconds_between as {{ auth0_type_double() }}) / 3600 as hours_since_previous_login,
        -- Under a minute apart counts as a minute: two logins in the same second are not
        -- infinitely fast, only very.
        travel.distance_km
            / (cast(greatest(travel.seconds_between, 60) as {{ auth0_type_double() }}) / 3600)
            as travel_speed_kmh
    from logins
    left join travel
        on travel.tenant_domain = logins.tenant_domain
        and travel.log_id = logins.log_id
),

flagged as (
    select
        *,
        country_code is not null
            and login_number > 1
            and login_number_in_country = 1 as is_new_country,
        coalesce(
            travel_speed_kmh > {{ var('auth0_max_travel_kmh') }}
                and distance_km >= {{ var('auth0_min_travel_km') }},
            false
        ) as is_impossible_travel
    from assessed
)

select
    tenant_domain,
    log_id,
    event_at,
    event_date,
    user_id,
    user_name,
    client_id,
    client_name,
    connection,
    ip,
    user_agent,
    country_code,
    city_name,
    latitude,
    longitude,
    previous_login_at,
    previous_country_code,
    distance_km,
    hours_since_previous_login,
    travel_speed_kmh,
    is_new_country,
    is_impossible_travel,
    risk_confidence,
    is_risk_new_device,
    is_risk_impossible_travel,
    is_risk_untrusted_ip
from flagged
where is_new_country
    or is_impossible_travel
    or is_risk_new_device
    or is_risk_impossible_travel
    or is_risk_untrusted_ip
