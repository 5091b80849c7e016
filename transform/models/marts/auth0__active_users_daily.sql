{#- Active users as Auth0 bills them (the active_user code set) for every day from a tenant's
    first event to its newest: that day, the trailing 7 and 30 days, the month so far and
    the whole calendar month. -#}
with recursive

tenant_days as (
    select
        tenant_domain,
        min(event_date) as activity_date,
        max(event_date) as last_date
    from {{ ref('stg_auth0__events') }}
    group by tenant_domain

    union all

    select
        tenant_domain,
        cast({{ dbt.dateadd('day', 1, 'activity_date') }} as date),
        last_date
    from tenant_days
    where activity_date < last_date
),

windows as (
    select
        tenant_domain,
        activity_date,
        cast({{ dbt.dateadd('day', -6, 'activity_date') }} as date) as week_start,
        cast({{ dbt.dateadd('day', -29, 'activity_date') }} as date) as thirty_days_start,
        cast({{ dbt.date_trunc('month', 'activity_date') }} as date) as activity_month
    from tenant_days
),

user_days as (
    select distinct
        tenant_domain,
        user_id,
        event_date,
        cast({{ dbt.date_trunc('month', 'event_date') }} as date) as activity_month
    from {{ ref('stg_auth0__events') }}
    where is_active_user and user_id is not null
),

trailing_counts as (
    select
        windows.tenant_domain,
        windows.activity_date,
        count(distinct case
            when user_days.event_date = windows.activity_date then user_days.user_id
        end) as daily_active_users,
        count(distinct case
            when user_days.event_date >= windows.week_start then user_days.user_id
        end) as active_users_7d,
        count(distinct case
            when user_days.event_date >= windows.thirty_days_start then user_days.user_id
        end) as active_users_30d,
        count(distinct case
            when user_days.event_date >= windows.activity_month then user_days.user_id
        end) as month_to_date_active_users
    from windows
    left join user_days
        on user_days.tenant_domain = windows.tenant_domain
        and user_days.event_date <= windows.activity_date
        -- A month so far can span 31 days, one more than the trailing window.
        and user_days.event_date >= least(windows.thirty_days_start, windows.activity_month)
    group by windows.tenant_domain, windows.activity_date
),

months as (
    select
        tenant_domain,
        activity_month,
        count(distinct user_id) as monthly_active_users
    from user_days
    group by tenant_domain, activity_month
)

select
    windows.tenant_domain,
    windows.activity_date,
    windows.activity_month,
    trailing_counts.daily_active_users,
    trailing_counts.active_users_7d,
    trailing_counts.active_users_30d,
    trailing_counts.month_to_date_active_users,
    coalesce(months.monthly_active_users, 0) as monthly_active_users
from windows
inner join trailing_counts
    on trailing_counts.tenant_domain = windows.tenant_domain
    and trailing_counts.activity_date = windows.activity_date
left join months
    on months.tenant_domain = windows.tenant_domain
    and months.activity_month = windows.activity_month
