"""Testing helpers for MRAP projects: small, version-pinned corrections to moto (``moto_patches``).

Requires the ``dev`` extra (moto). Nothing here is imported by the constructs themselves.
"""
