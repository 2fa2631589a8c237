"""Code shared by the edge agent and the cloud service: config, types, errors, logging, the wire contract."""
