"""Pluggable components: small protocols and their implementations.

Each module holds one kind of component; the registry in :mod:`skla.plugins`
maps names to them.
"""
