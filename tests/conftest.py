"""Session fixtures for the real servers, and two guards that keep the suite honest.

- A test skipped for any reason fails the run: a missing server must be started, not skipped.
- A test that logs an unexpected ERROR fails, so errors are never swallowed silently.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

import pytest

from tests.bad_inputs_backup import backup  # noqa: F401 - the fixture, for every test module
from tests.restore_targets import (  # noqa: F401 - fixtures, for every test module
    mariadb_targets,
    postgres_databases,
    target,
)
from tests.s3_server import s3_settings  # noqa: F401 - the fixture, for every test module
from tests.stack import StackEnv, load_stack_env


@pytest.fixture(scope="session")
def stack_env() -> StackEnv:
    if os.environ.get("CDC_TEST_DOCKER") == "1":
        from tests.docker_stack import start_docker_stack  # noqa: PLC0415

        return start_docker_stack()
    try:
        return load_stack_env()
    except FileNotFoundError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(autouse=True)
def _fail_on_logged_errors(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    yield
    errors = [
        r for r in caplog.get_records("call")
        if r.levelno >= logging.ERROR and not getattr(r, "expected", False)
    ]
    if errors:
        lines = "\n".join(f"  {r.name}: {r.getMessage()}" for r in errors)
        pytest.fail(f"the test logged unexpected errors:\n{lines}", pytrace=False)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if reporter is not None and skipped and exitstatus == 0:
        reporter.write_line(
            f"FAILED: {len(skipped)} test(s) skipped; a skip hides missing work or a missing "
            "server, so the run fails", red=True,
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
