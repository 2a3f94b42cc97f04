"""Point-in-time restore, live migration and verification from the changelog."""

__version__ = "0.1.0"
