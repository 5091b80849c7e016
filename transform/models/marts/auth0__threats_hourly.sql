{#- Security Center's three threat classes per tenant and hour (credential stuffing, signup
    attack, MFA bypass, each a code set) and their share of all the hour's events. -#}
with hourly as (
    select
        tenant_domain,
        event_hour,
        count(*) as events,
        {{ auth0_count_where('is_credential_stuffing') }} as credential_stuffing_events,
        {{ auth0_count_where('is_signup_attack') }} as signup_attack_events,
        {{ auth0_count_where('is_mfa_bypass') }} as mfa_bypass_events,
        {{ auth0_count_where('is_credential_stuffing or is_signup_attack or is_mfa_bypass') }}
            as threat_events,
        {{ auth0_count_where('is_login_success') }} as successful_logins,
        {{ auth0_count_where('is_login_failure') }} as failed_logins,
        {{ auth0_count_where('is_signup_success') }} as signups,
        {{ auth0_count_where('is_signup_failure') }} as failed_signups,
        count(distinct case
            when is_credential_stuffing or is_signup_attack or is_mfa_bypass then ip
        end) as threat_ips
    from {{ ref('stg_auth0__events') }}
    group by tenant_domain, event_hour
)

select
    tenant_domain,
    event_hour,
    cast(event_hour as date) as event_date,
    events,
    credential_stuffing_events,
    signup_attack_events,
    mfa_bypass_events,
    threat_events,
    {{ auth0_ratio('credential_stuffing_events', 'events') }} as credential_stuffing_share,
    {{ auth0_ratio('signup_attack_events', 'events') }} as signup_attack_share,
    {{ auth0_ratio('mfa_bypass_events', 'events') }} as mfa_bypass_share,
    {{ auth0_ratio('threat_events', 'events') }} as threat_share,
    successful_logins,
    failed_logins,
    signups,
    failed_signups,
    threat_ips
from hourly
