"""Test-collection settings shared by the whole repository."""

# Importing the command-line entry module runs the command.
collect_ignore = ["symgrad/__main__.py"]
