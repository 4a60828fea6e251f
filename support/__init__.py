"""A self-hosted support desk: tickets, their conversation, and a CoCalc-compatible API."""

# The one place the version is written: the build (pyproject.toml), the API schema and the
# User-Agent of forwarding backends read it from here.
__version__ = "0.2.0"
