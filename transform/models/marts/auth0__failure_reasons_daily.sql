{#- Why things fail, per tenant and day: every event of the failure code set by type and by
    the description Auth0 gave it ('(none)' when it gave none). -#}
select
    tenant_domain,
    event_date,
    type,
    coalesce(description, '(none)') as reason,
    max(type_description) as type_description,
    {{ auth0_event_reach() }}
from {{ ref('stg_auth0__events') }}
where is_failure
group by tenant_domain, event_date, type, coalesce(description, '(none)')
