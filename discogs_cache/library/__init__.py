"""The station catalog: library.db, its MySQL source, artist lists and label preferences."""
