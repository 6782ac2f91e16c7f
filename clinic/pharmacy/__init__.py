"""The pharmacy: the formulary, today's prescriptions to dispense, and the dispensing record."""
