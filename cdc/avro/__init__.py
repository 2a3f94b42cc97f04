"""The changelog's Avro encoding: row schemas per table version, the record envelope, keys and
the schemas topic. ``codec`` is the entry point; docs/types.md describes every representation.
"""
