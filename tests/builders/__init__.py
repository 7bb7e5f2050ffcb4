"""Builders of test inputs shared by test modules of more than one tier.

Plain functions, classes and constants: no fixtures (those are in ``tests/fixtures``) and no
tests. A test module imports builders from here, from ``tests/factories.py`` or from a
helper module of its own tier (``tests/unit/feeding.py``, ``tests/integration/drive.py``,
...), never from another test module or a conftest (``tests/unit/test_test_layout.py``).
"""
