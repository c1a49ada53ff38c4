"""Fengqiao routing engine: the pure core (`router.domain`) and the adapters around it."""
