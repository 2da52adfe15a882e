"""hazmap core: data model, storage, the plans' rules and the analyses, without any UI."""

__version__ = "0.1.0"
