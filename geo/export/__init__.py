"""Exports for drills and reports: drill maps, the two 明白卡, KML/GPX/GeoJSON, Excel and PDF reports.

Modules: :mod:`~geo.export.hazard` (what the exports print about a hazard point, routes computed once),
:mod:`~geo.export.drill_map`, :mod:`~geo.export.cards`, :mod:`~geo.export.batch`, :mod:`~geo.export.vector`,
:mod:`~geo.export.reports`; below them :mod:`~geo.export.fonts` (the embedded CJK font),
:mod:`~geo.export.page`, :mod:`~geo.export.forms` and :mod:`~geo.export.cartography` (sheet furniture), and
:mod:`~geo.export.files` (atomic output).  The package import loads nothing heavy: ``python -m geo`` builds its
parser from :mod:`~geo.export.commands` without matplotlib.
"""
