"""A one-page HTML report of the analytics marts, with inline SVG charts and no script.

figures  reads the marts of one tenant from the DuckDB warehouse
charts   draws bar charts as SVG markup
page     lays the figures and charts out as one HTML page, every value escaped
__main__ ``python -m transform.report``
"""
