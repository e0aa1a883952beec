"""The leaked-task check of ``tests/conftest.py`` itself, run on a small test file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

CHECKED = '''
import asyncio
import pytest

async def test_leaves_a_task_running():
    asyncio.create_task(asyncio.sleep(60), name="forgotten-poller")

async def test_cancels_its_task():
    task = asyncio.create_task(asyncio.sleep(60))
    task.cancel()

@pytest.fixture
async def background():
    task = asyncio.create_task(asyncio.sleep(60), name="fixture-task")
    yield
    task.cancel()

async def test_a_fixture_stops_its_task_at_teardown(background):
    pass

@pytest.fixture
def sync_fixture_running_a_loop():
    return asyncio.run(asyncio.sleep(0, result=1))

async def test_a_sync_fixture_may_use_asyncio_run(sync_fixture_running_a_loop):
    assert sync_fixture_running_a_loop == 1

def test_sync():
    pass
'''


def test_a_task_left_running_fails_the_test_by_name(pytester: pytest.Pytester,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.makeconftest((Path(__file__).parents[1] / "conftest.py").read_text())
    pytester.makeini("[pytest]\nasyncio_mode = auto\n"
                     "asyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(test_checked=CHECKED)
    # the checked run loads pytest-asyncio alone: every installed plugin (schemathesis,
    # hypothesis, playwright, ...) took seconds to import and none is used there
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    # the conftest imports the checkout's tests.support (the recycled databases)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        filter(None, [str(Path(__file__).parents[2]), os.environ.get("PYTHONPATH")])))
    result = pytester.runpytest_subprocess("-p", "asyncio", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=5, errors=1)
    result.stdout.fnmatch_lines([
        "*ERROR at teardown of test_leaves_a_task_running*",
        "*1 asyncio task(s) left running by this test:*",
        "*'forgotten-poller' running sleep*",
    ])
