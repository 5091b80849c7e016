{#- Great-circle distance in km between two points given in degrees (haversine). least()
    keeps rounding from pushing asin's argument past 1 for antipodal points. -#}
{% macro auth0_haversine_km(lat1, lon1, lat2, lon2) -%}
    2 * 6371.0 * asin(least(1.0, sqrt(
        power(sin(radians({{ lat2 }} - {{ lat1 }}) / 2), 2)
        + cos(radians({{ lat1 }})) * cos(radians({{ lat2 }}))
        * power(sin(radians({{ lon2 }} - {{ lon1 }}) / 2), 2)
    )))
{%- endmacro %}
