"""The data model and the plans' rules, as declared data and pure functions; the bottom of the core.

:mod:`~geo.model.schema` (layers, attribute tables, columns, code lists, Chinese titles, the validator),
:mod:`~geo.model.rules` (the two plans' thresholds, levels and duties, each citing its section),
:mod:`~geo.model.crs` (every coordinate system and the metric-zone choice) and :mod:`~geo.model.gcj02`.  Nothing
here reads a file or imports the rest of hazmap, except :mod:`geo.settings`.
"""
