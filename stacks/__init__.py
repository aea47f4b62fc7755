"""Deployable compositions of the ``mrap_constructs`` library, driven by the app config."""
