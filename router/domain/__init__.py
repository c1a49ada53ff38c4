"""The pure core: classification, town resolution and routing as functions of data.

Nothing here performs I/O, reads a clock or imports a framework; an import-linter
contract in pyproject.toml keeps it so.
"""
