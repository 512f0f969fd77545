"""The regulator's dossier (监管报送材料包): documents gathered into one folder, each bound
to the ledger, a signed manifest of every file, the ledger evidence bundle and the offline
verifier (docs/dossier.md). ``handover.flows.dossier`` gathers and records."""

from handover.dossier.dossier import (
    FORMAT,
    Binding,
    Document,
    Sealed,
    add_file,
    add_json,
    bind_origin,
    check_out,
    describe,
    seal,
)

__all__ = [
    "FORMAT",
    "Binding",
    "Document",
    "Sealed",
    "add_file",
    "add_json",
    "bind_origin",
    "check_out",
    "describe",
    "seal",
]
