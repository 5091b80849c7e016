{#- Auth0's event type codes as the tap ships them, one row per code. -#}
select
    code,
    description,
    category,
    status
from {{ source('auth0', 'log_event_types') }}
