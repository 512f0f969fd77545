"""``python -m handover.taxonomy`` prints docs/taxonomy.md generated from the table."""

from handover.taxonomy.table import markdown

print(markdown(), end="")
