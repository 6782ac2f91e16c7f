"""Offline-first electronic medical record for Indonesian primary care."""
