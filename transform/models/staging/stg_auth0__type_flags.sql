{#- One row per type code of the seed, one flag per code set: whether the code is in it. -#}
select
    code,
    {%- for code_set in auth0_code_set_names() %}
    {{ dbt.bool_or("code_set = '" ~ code_set ~ "'") }} as is_{{ code_set }}
    {{- "," if not loop.last }}
    {%- endfor %}
from {{ ref('auth0_code_sets') }}
group by code
