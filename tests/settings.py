"""Settings of the shared test cloud service, imported by tests that assert against them."""

from shared.model_registry import GEMMA, SMOLLM2

API_KEY = "test-key-7f3a"
# What every cloud and edge the tests start runs unless a test names another: the fast pair.
MECHANICS_CLOUD_MODEL = GEMMA
MECHANICS_EDGE_MODEL = SMOLLM2
MAX_CONCURRENT = 4
MAX_OUTPUT_TOKENS = 256
AUTH = (("authorization", f"Bearer {API_KEY}"),)
FLEET_CONSENTING = ("acme", "beta")
SERVER_FLAGS = [
    "--backend",
    "vllm",
    "--api-keys",
    API_KEY,
    "--max-concurrent-requests",
    str(MAX_CONCURRENT),
    "--max-output-tokens",
    str(MAX_OUTPUT_TOKENS),
    # Fleet learning: two tenants consent (their keys are made by the `fleet_tenants` fixture); every record is
    # written at once, so a test waits for its file rather than for a timer.
    "--fleet-consent",
    ",".join(FLEET_CONSENTING),
    "--fleet-flush-records",
    "1",
]
