{#- Refresh tokens (and code exchanges, the refresh_token_exchange set) per tenant, day, user
    and application, flagged when they came from more distinct IPs than the var allows: a
    token copied off its device gets used from elsewhere. -#}
select
    tenant_domain,
    event_date,
    user_id,
    coalesce(client_id, '(none)') as client_id,
    max(client_name) as client_name,
    count(*) as exchanges,
    count(distinct ip) as distinct_ips,
    count(distinct country_code) as distinct_countries,
    count(distinct ip) > {{ var('auth0_refresh_token_max_ips') }} as is_too_many_ips
from {{ ref('stg_auth0__events') }}
where is_refresh_token_exchange and user_id is not null
group by tenant_domain, event_date, user_id, coalesce(client_id, '(none)')
