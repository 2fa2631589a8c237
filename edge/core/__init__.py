"""What the cascade and its stages share: the query, the stage Protocols and the values they pass.

Every edge package imports downward to here, and nothing here imports another edge package, so the pipeline
depends on its stages (local, cache, routing, confidence, uplink) only through these Protocols.
"""
