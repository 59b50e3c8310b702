"""Shared fixtures: the development corpus (skips when absent) and slow-test gating."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--runslow", action="store_true", default=False,
                     help="run slow corpus-wide checks (benchmarks)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--runslow"):
        return
    skip_slow = pytest.mark.skip(reason="slow: run with --runslow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip_slow)


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """../shared/corpus, or skip: a user's clone has no ../shared."""
    env = os.environ.get("TRIAGE_CORPUS")
    path = Path(env) if env else CORPUS
    if not (path / "manifest.csv").is_file():
        pytest.skip("development corpus (../shared/corpus) not present")
    return path
