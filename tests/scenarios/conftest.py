"""The end-to-end scenarios run on both store backends: TinyDB and PostgreSQL (a fresh schema each).

The PostgreSQL half needs a server (``$PAPERS_BOT_TEST_DATABASE_URL``, or ``initdb`` to start one);
without one it skips with the reason. Deselect it with ``-m "not postgres"``.

To keep CI within its time budget, three modules run on TinyDB only, being about other things than
the store: the fan-out pacing tests (~14 s waiting out Slack's posting rate), search (the day
archive and Hugging Face's search API) and link cards (which store nothing). Their tests that do
depend on the store (the ledger behind ``--posted``, exactly-once fan-out) are marked
``@BOTH_STORES`` and run on both.
``test_multiprocess`` is PostgreSQL-only by nature.
"""

from __future__ import annotations

import pytest

TINYDB_ONLY = {"test_fanout", "test_search", "test_install_browser", "test_unfurls"}
OWN_BACKEND = {"test_multiprocess"}
BOTH_STORES = pytest.mark.parametrize("store_backend", ["tinydb", pytest.param("postgres", marks=pytest.mark.postgres)])


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "store_backend" not in metafunc.fixturenames:
        return
    module = metafunc.module.__name__.rsplit(".", 1)[-1]
    marks = metafunc.definition.iter_markers("parametrize")
    if module in OWN_BACKEND or any(m.args and m.args[0] == "store_backend" for m in marks):
        return  # the test chose its backends itself
    backends: list[object] = ["tinydb"]
    if module not in TINYDB_ONLY:
        backends.append(pytest.param("postgres", marks=pytest.mark.postgres))
    metafunc.parametrize("store_backend", backends)
