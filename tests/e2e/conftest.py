from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.stack import Stack, start_stack


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The whole system, built from this checkout, torn down (volumes too) whatever happens."""
    started = start_stack(tmp_path_factory.mktemp("e2e"))
    try:
        yield started
    finally:
        started.compose.stop()


@pytest.fixture(scope="session")
def token(stack: Stack) -> str:
    return stack.obtain_token("e2e")


@pytest.fixture(scope="session")
def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
