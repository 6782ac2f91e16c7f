"""The day's queue (antrian): polis, check-ins with the day's number per poli, and status changes."""
