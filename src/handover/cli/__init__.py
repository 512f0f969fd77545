"""Command-line adapter: parses input, calls one library function, renders the result."""
