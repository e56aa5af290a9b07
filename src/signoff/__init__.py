"""Signoff: an open-source approval center (审批中心)."""

__version__ = "0.1.0"
