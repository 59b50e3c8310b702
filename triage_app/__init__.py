"""Deepfake Triage: the application (everything that is not a detector or an explainer)."""

__version__ = "0.1.0"
