"""Synthetic Chinese small-loan company (小额贷款公司) loan book: the data every demo,
test and benchmark uses. ``synthesize(out, customers=, seed=)`` writes it with a
ground-truth ``truth.json``; see docs/synth.md."""

from handover.synth.synth import SynthResult, synthesize

__all__ = ["SynthResult", "synthesize"]
