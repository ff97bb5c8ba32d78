"""ASCL data pipeline: builds safety-alignment chain-of-thought training sets.

Stages (one sub-package each): sources -> generate -> filters -> dedupe -> publish.
"""
__version__ = "0.1.0"
