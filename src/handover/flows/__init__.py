"""Flows: one module per user-visible step, each doing the order every step shares.

    authorize (governance) → open sources → run kernels → record ledger events → sign a
    checkpoint

The CLI (and the web console, the executor) call flows only; kernels never import flows,
governance or the adapters. :func:`handover.flows.workspace.opened` holds the checkpoint
rule: every command that recorded events ends with a signed checkpoint of the ledger.
"""
