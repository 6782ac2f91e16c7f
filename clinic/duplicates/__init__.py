"""Possible duplicate patients: flagged at registration, reviewed by the registration desk (issue 11)."""
