"""One module per ``xbench`` command."""
