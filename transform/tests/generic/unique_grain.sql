{#- A model's grain: no two rows share these columns (a key of several columns). -#}
{% test unique_grain(model, columns) %}
select {{ columns | join(', ') }}, count(*) as rows_sharing_the_grain
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
