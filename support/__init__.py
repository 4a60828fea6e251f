"""A self-hosted support desk: tickets, their conversation, and a CoCalc-compatible API."""
