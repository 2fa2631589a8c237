"""The suite never touches the user's data dir, apart from the prepared models it links in."""

from __future__ import annotations

from shared.config import default_data_dir, load_config


def test_tests_use_their_own_data_dir(hermetic_data_dir):
    data_dir = load_config().data_dir
    assert data_dir == hermetic_data_dir and data_dir != default_data_dir()
    assert (data_dir / "models").resolve() == (default_data_dir() / "models").resolve()
