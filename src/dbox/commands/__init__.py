"""CLI areas: each module holds the commands of one area and a ``register(app)`` function."""
