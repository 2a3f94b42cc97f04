"""The binlog side of capture: the only package that imports the binlog library.

``library_fixes`` patches the library so its rows carry exact values, ``decoders`` holds the
exact decoders it uses, and ``columns`` turns the library's table maps into ``Column`` values.
"""
