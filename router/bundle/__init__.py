"""Jurisdiction bundles: data files that describe one district, validated at load."""

from router.bundle.load import BundleError, check_bundle, load_bundle, read_bundle
from router.bundle.problems import Problem

__all__ = ["BundleError", "Problem", "check_bundle", "load_bundle", "read_bundle"]
