"""The compiled fast path of capture (cdc/binlog/_fastrows.c); everything else is in
pyproject.toml. ``optional``: without a C compiler the package installs and runs through the
pure-Python path alone."""

from setuptools import Extension, setup

setup(ext_modules=[Extension("cdc.binlog._fastrows", ["cdc/binlog/_fastrows.c"],
                             extra_compile_args=["-O2", "-std=c11"], optional=True)])
