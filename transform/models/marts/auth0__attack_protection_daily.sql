{#- Attack Protection's events per tenant, day and type code (the attack_protection set):
    brute-force and IP blocks, breached passwords and released blocks. -#}
select
    tenant_domain,
    event_date,
    type,
    max(case
        when is_brute_force_block then 'brute_force_protection'
        when is_ip_throttle_block then 'suspicious_ip_throttling'
        when is_ip_block then 'ip_block'
        when is_breached_password then 'breached_password_detection'
        when is_block_released then 'block_released'
        else 'other'
    end) as protection,
    max(type_description) as type_description,
    {{ auth0_event_reach() }}
from {{ ref('stg_auth0__events') }}
where is_attack_protection
group by tenant_domain, event_date, type
