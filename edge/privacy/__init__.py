"""Personal data on the device: found in every request that could leave it, redacted or kept local by policy,
and every request that left recorded in an append-only egress log."""
