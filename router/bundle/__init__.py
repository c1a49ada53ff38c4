"""Jurisdiction bundles: data files that describe one district, validated at load."""

from router.bundle.load import BundleError, Problem, check_bundle, load_bundle

__all__ = ["BundleError", "Problem", "check_bundle", "load_bundle"]
