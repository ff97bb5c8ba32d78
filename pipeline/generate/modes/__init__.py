"""Trace modes: each builds the teacher's initial context for a prompt."""
from .adaptive import adaptive_messages
from .explicit import explicit_messages

BUILDERS = {"explicit": explicit_messages, "adaptive": adaptive_messages}

__all__ = ["BUILDERS", "adaptive_messages", "explicit_messages"]
