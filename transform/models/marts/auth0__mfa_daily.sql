{#- Multi-factor authentication per tenant and day: challenges, sends, successes, failures,
    the success rate, and push or SMS bombing (the most pushes, SMS or calls one user got in
    one hour, and how many users got at least the fatigue var). -#}
with mfa_events as (
    select *
    from {{ ref('stg_auth0__events') }}
    where is_mfa_start or is_mfa_send or is_mfa_success or is_mfa_failure or is_mfa_enrollment
),

user_hours as (
    select
        tenant_domain,
        event_date,
        event_hour,
        user_id,
        count(*) as pushes_or_sms
    from mfa_events
    where is_mfa_push_or_sms and user_id is not null
    group by tenant_domain, event_date, event_hour, user_id
),

bombing as (
    select
        tenant_domain,
        event_date,
        max(pushes_or_sms) as max_push_or_sms_one_user_hour,
        count(distinct case
            when pushes_or_sms >= {{ var('auth0_mfa_fatigue_per_hour') }} then user_id
        end) as fatigue_users
    from user_hours
    group by tenant_domain, event_date
),

daily as (
    select
        tenant_domain,
        event_date,
        {{ auth0_count_where('is_mfa_start') }} as challenges_started,
        {{ auth0_count_where('is_mfa_send') }} as sends,
        {{ auth0_count_where('is_mfa_success') }} as successes,
        {{ auth0_count_where('is_mfa_failure') }} as failures,
        {{ auth0_count_where('is_mfa_enrollment') }} as enrollments,
        count(distinct user_id) as distinct_users
    from mfa_events
    group by tenant_domain, event_date
)

select
    daily.tenant_domain,
    daily.event_date,
    daily.challenges_started,
    daily.sends,
    daily.successes,
    daily.failures,
    {{ auth0_ratio('daily.successes', 'daily.successes + daily.failures') }} as success_rate,
    daily.enrollments,
    daily.distinct_users,
    coalesce(bombing.max_push_or_sms_one_user_hour, 0) as max_push_or_sms_one_user_hour,
    coalesce(bombing.fatigue_users, 0) as fatigue_users
from daily
left join bombing
    on bombing.tenant_domain = daily.tenant_domain
    and bombing.event_date = daily.event_date
