{#- What each IP did in each hour, with the flags analysts raise: brute force (many failures
    against one username), credential stuffing (failures across many usernames) and a signup
    flood. The thresholds are vars. -#}
with ip_events as (
    select *
    from {{ ref('stg_auth0__events') }}
    where ip is not null
),

failures_per_user_name as (
    select
        tenant_domain,
        event_hour,
        ip,
        user_name,
        count(*) as failures
    from ip_events
    where is_login_failure
    group by tenant_domain, event_hour, ip, user_name
),

worst_target as (
    select
        tenant_domain,
        event_hour,
        ip,
        max(failures) as max_failures_one_user_name
    from failures_per_user_name
    group by tenant_domain, event_hour, ip
),

latest as (
    select
        tenant_domain,
        event_hour,
        ip,
        user_name,
        user_agent,
        country_code,
        row_number() over (
            partition by tenant_domain, event_hour, ip order by event_at desc, log_id desc
        ) as recency
    from ip_events
),

hourly as (
    select
        tenant_domain,
        event_hour,
        ip,
        count(*) as events,
        {{ auth0_count_where('is_login_success') }} as successful_logins,
        {{ auth0_count_where('is_login_failure') }} as failed_logins,
        count(distinct case when is_login_failure then user_name end)
            as distinct_user_names_failed,
        {{ auth0_count_where('is_signup_attempt') }} as signup_attempts,
        {{ auth0_count_where('is_breached_password') }} as breached_passwords,
        {{ auth0_count_where('is_brute_force_block or is_ip_throttle_block or is_ip_block') }}
            as blocks,
        count(distinct user_id) as distinct_users
    from ip_events
    group by tenant_domain, event_hour, ip
)

select
    hourly.tenant_domain,
    hourly.event_hour,
    cast(hourly.event_hour as date) as event_date,
    hourly.ip,
    latest.country_code,
    hourly.events,
    hourly.successful_logins,
    hourly.failed_logins,
    hourly.distinct_user_names_failed,
    coalesce(worst_target.max_failures_one_user_name, 0) as max_failures_one_user_name,
    hourly.signup_attempts,
    hourly.breached_passwords,
    hourly.blocks,
    hourly.distinct_users,
    latest.user_name as last_user_name,
    latest.user_agent as last_user_agent,
    coalesce(worst_target.max_failures_one_user_name, 0)
        >= {{ var('auth0_brute_force_failures_per_hour') }} as is_brute_force,
    hourly.distinct_user_names_failed
        >= {{ var('auth0_stuffing_usernames_per_hour') }} as is_credential_stuffing,
    hourly.signup_attempts >= {{ var('auth0_signup_flood_per_hour') }} as is_signup_flood
from hourly
inner join latest
    on latest.tenant_domain = hourly.tenant_domain
    and latest.event_hour = hourly.event_hour
    and latest.ip = hourly.ip
    and latest.recency = 1
left join worst_target
    on worst_target.tenant_domain = hourly.tenant_domain
    and worst_target.event_hour = hourly.event_hour
    and worst_target.ip = hourly.ip
