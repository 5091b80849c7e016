{#- The events with their type's description and one flag per code set. A view over the
    incremental table, so a code added to a set counts from the next build on, without a full
    refresh. -#}
select
    events.*,
    event_types.description as type_description,
    {%- for code_set in auth0_code_set_names() %}
    coalesce(flags.is_{{ code_set }}, false) as is_{{ code_set }}
    {{- "," if not loop.last }}
    {%- endfor %}
from {{ ref('stg_auth0__log_events') }} as events
left join {{ ref('stg_auth0__event_types') }} as event_types
    on event_types.code = events.type
left join {{ ref('stg_auth0__type_flags') }} as flags
    on flags.code = events.type
