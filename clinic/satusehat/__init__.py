"""SATUSEHAT, Kemenkes' FHIR R4 platform: every finished encounter is mapped to a transaction Bundle
(`bundle`), queued in the same transaction that stores it (`outbox`) and sent exactly once (`sender`)."""
