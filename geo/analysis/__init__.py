"""The analyses: pure functions that take layers and settings and return frames with stable column names.

:mod:`~geo.analysis.network` (the road graph), :mod:`~geo.analysis.exposure` (who is at risk under warnings),
:mod:`~geo.analysis.evacuation` (routes to shelters), :mod:`~geo.analysis.pools` (pool coverage, townships,
budget, staffing), :mod:`~geo.analysis.siting` (where new pools help most) and :mod:`~geo.analysis.in_database`
(the same figures computed inside PostGIS).  The CLI, the pages, the exports and the tests all read these results.
"""
