"""Tests of builder/validate/, one module per module of the package (shared rows and
helpers in cases.py, fixtures in conftest.py)."""
