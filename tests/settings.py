"""Settings of the shared test cloud service, imported by tests that assert against them."""

API_KEY = "test-key-7f3a"
MAX_CONCURRENT = 4
MAX_OUTPUT_TOKENS = 256
AUTH = (("authorization", f"Bearer {API_KEY}"),)
SERVER_FLAGS = [
    "--backend",
    "vllm",
    "--api-keys",
    API_KEY,
    "--max-concurrent-requests",
    str(MAX_CONCURRENT),
    "--max-output-tokens",
    str(MAX_OUTPUT_TOKENS),
]
