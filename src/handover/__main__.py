"""``python -m handover``: the ``handover`` command."""

from handover.cli.main import main

main()
