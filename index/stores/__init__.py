"""Stores of an index: the interface (``index.stores.interface``) and its implementations."""
