{#- The code sets of seeds/auth0_code_sets.csv that staging turns into one `is_<set>` flag
    each. Which codes a set holds is the seed's business alone: SQL never lists codes. -#}

{% macro auth0_code_set_names() -%}
    {{ return([
        'login_success', 'login_failure', 'activity_failed_login',
        'signup_success', 'signup_failure', 'signup_attempt',
        'silent_auth', 'token_exchange', 'refresh_token_exchange', 'active_user',
        'breached_password', 'brute_force_block', 'ip_throttle_block', 'ip_block',
        'block_released', 'attack_protection',
        'mfa_start', 'mfa_send', 'mfa_push_or_sms', 'mfa_success', 'mfa_failure',
        'mfa_enrollment', 'mfa_unenrollment',
        'credential_stuffing', 'signup_attack', 'mfa_bypass',
        'password_change', 'user_deletion', 'failure',
    ]) }}
{%- endmacro %}
