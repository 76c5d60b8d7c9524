"""Importing contact files: read, map columns, normalize, resolve geography, dedupe, write."""
