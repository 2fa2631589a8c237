"""Test-wide settings: keep engines small so the suite fits a 2-core machine."""

import os

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
