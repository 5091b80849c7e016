"""Benchmarks: the tap against the Auth0 emulator with set latency and rate limits.

``python -m benchmarks`` (or ``make bench``) runs every scenario and prints figures; these are
not tests and assert nothing. Each process stands alone so its CPU and memory are its own:

    emulator_server  the emulator, in its own process, answering commands on stdin
    naive            the naive sequential baseline: one request at a time, like a curl script
    sdk_defaults     the tap with singer-sdk's default message writing, for the CPU yardstick
    minimal_pass     the least a pass can do (http.client, the tap's decoding and writing)
    sdk_writer       by hand: the tap's record path against singer-sdk's msgspec writer
    launch           starts a measured process, so that its peak RSS and CPU time are its own
    measure          running and measuring those processes, and the figures they yield
    report           the table printed for each scenario, with its targets

One module per scenario: ``cpu``, ``rate_limit``, ``backlog_pass``, ``large_tenant``,
``real_tenant``, ``plans``, ``bucket_share``; ``keyed_target`` is the keyed table real_tenant
loads runs into, ``completeness`` the check of every event delivered against the tenant's.

``--tiny`` runs every scenario at a handful of users and events, to prove it still runs to its
report: ``tests/test_benchmarks.py`` does so in ``make test``.
"""
