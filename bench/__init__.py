"""The figures of `make bench`: run each as `python -m bench.<name>` from the repository root."""
