"""The compiled fast paths: capture's (cdc/binlog/_fastrows.c) and the PostgreSQL load's COPY
text (replayer/_copytext.c); everything else is in pyproject.toml. ``optional``: without a C
compiler the package installs and runs through the pure-Python paths alone."""

from setuptools import Extension, setup

_FLAGS = ["-O2", "-std=c11"]

setup(ext_modules=[
    Extension("cdc.binlog._fastrows", ["cdc/binlog/_fastrows.c"], extra_compile_args=_FLAGS,
              optional=True),
    Extension("replayer._copytext", ["replayer/_copytext.c"], extra_compile_args=_FLAGS,
              optional=True),
])
