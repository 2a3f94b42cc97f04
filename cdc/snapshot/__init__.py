"""Base snapshots: where they are stored, how they are sealed, and the manifest that lists them."""
