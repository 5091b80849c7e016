{#- Per tenant, day, application and connection: logins, failures counted two ways, signups,
    breached passwords and distinct users. A missing client_id or connection reads '(none)'. -#}
select
    tenant_domain,
    event_date,
    coalesce(client_id, '(none)') as client_id,
    max(client_name) as client_name,
    coalesce(connection, '(none)') as connection,
    count(*) as events,
    {{ auth0_count_where('is_login_success') }} as successful_logins,
    {{ auth0_count_where('is_activity_failed_login') }} as failed_logins_activity_page,
    {{ auth0_count_where('is_login_failure') }} as failed_logins,
    {{ auth0_count_where('is_signup_success') }} as signups,
    {{ auth0_count_where('is_signup_failure') }} as failed_signups,
    {{ auth0_count_where('is_breached_password') }} as breached_passwords,
    count(distinct user_id) as distinct_users,
    count(distinct case when is_login_success then user_id end) as users_logged_in
from {{ ref('stg_auth0__events') }}
group by
    tenant_domain,
    event_date,
    coalesce(client_id, '(none)'),
    coalesce(connection, '(none)')
