"""Command-line adapter: parses input, calls one library function, renders the result."""

from handover.cli import messages as _messages

del _messages
