"""Feedback from users of the service: stored durably, turned into a golden set."""
