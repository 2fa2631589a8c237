"""The edge daemon: an OpenAI-compatible HTTP API in front of the cascade."""
