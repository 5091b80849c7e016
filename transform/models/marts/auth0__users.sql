{#- One row per user of a tenant: when first seen and last active, logins and failures, where
    they last logged in from, MFA, password changes, deletion and how long they have been idle
    before the tenant's newest event. -#}
with user_events as (
    select *
    from {{ ref('stg_auth0__events') }}
    where user_id is not null
),

tenant_clock as (
    -- "Now" for a tenant is its newest event, so the same events always give the same answer.
    select tenant_domain, max(event_at) as newest_event_at
    from {{ ref('stg_auth0__events') }}
    group by tenant_domain
),

latest_login as (
    select
        tenant_domain,
        user_id,
        ip,
        country_code,
        country_name,
        row_number() over (
            partition by tenant_domain, user_id order by event_at desc, log_id desc
        ) as recency
    from user_events
    where is_login_success
),

latest_name as (
    select
        tenant_domain,
        user_id,
        user_name,
        row_number() over (
            partition by tenant_domain, user_id order by event_at desc, log_id desc
        ) as recency
    from user_events
    where user_name is not null
),

activity as (
    select
        tenant_domain,
        user_id,
        max(login_method) as login_method,
        min(event_at) as first_seen_at,
        max(event_at) as last_event_at,
        min(case when is_signup_success then event_at end) as signed_up_at,
        max(case when is_active_user then event_at end) as last_active_at,
        max(case when is_login_success then event_at end) as last_login_at,
        {{ auth0_count_where('is_login_success') }} as logins,
        {{ auth0_count_where('is_login_failure') }} as failed_logins,
        max(case when is_password_change then event_at end) as last_password_changed_at,
        min(case when is_mfa_enrollment then event_at end) as mfa_enrolled_at,
        -- An enrollment or a passed challenge proves a factor; an unenrollment after both
        -- removes it.
        max(case when is_mfa_enrollment or is_mfa_success then event_at end)
            as last_mfa_factor_seen_at,
        max(case when is_mfa_unenrollment then event_at end) as last_mfa_unenrolled_at,
        max(case when is_user_deletion then event_at end) as deleted_at
    from user_events
    group by tenant_domain, user_id
)

select
    activity.tenant_domain,
    activity.user_id,
    latest_name.user_name,
    activity.login_method,
    activity.first_seen_at,
    activity.signed_up_at,
    activity.last_active_at,
    activity.last_event_at,
    activity.last_login_at,
    activity.logins,
    activity.failed_logins,
    latest_login.ip as last_ip,
    latest_login.country_code as last_country_code,
    latest_login.country_name as last_country_name,
    activity.mfa_enrolled_at,
    coalesce(
        activity.last_mfa_factor_seen_at > activity.last_mfa_unenrolled_at
            or (activity.last_mfa_factor_seen_at is not null
                and activity.last_mfa_unenrolled_at is null),
        false
    ) as is_mfa_enrolled,
    activity.last_password_changed_at,
    activity.deleted_at,
    activity.deleted_at is not null as is_deleted,
    {{ dbt.datediff(
        'coalesce(activity.last_active_at, activity.first_seen_at)',
        'tenant_clock.newest_event_at', 'day') }} as days_inactive,
    activity.deleted_at is null
        and {{ dbt.datediff(
            'coalesce(activity.last_active_at, activity.first_seen_at)',
            'tenant_clock.newest_event_at', 'day') }} >= {{ var('auth0_dormant_after_days') }}
        as is_dormant
from activity
inner join tenant_clock
    on tenant_clock.tenant_domain = activity.tenant_domain
left join latest_login
    on latest_login.tenant_domain = activity.tenant_domain
    and latest_login.user_id = activity.user_id
    and latest_login.recency = 1
left join latest_name
    on latest_name.tenant_domain = activity.tenant_domain
    and latest_name.user_id = activity.user_id
    and latest_name.recency = 1
