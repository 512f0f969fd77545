"""Benchmarks that run handover and a named peer on the same data in the same run."""
