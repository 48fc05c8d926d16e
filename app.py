"""dorfkarte Streamlit app: ``streamlit run app.py`` (all logic lives in the library).

Run as a Streamlit script (every page view, ``AppTest``) this draws the page. Imported
outside a script run, it defines ``app``, an ``st.App`` that ``streamlit run`` finds and
serves; its start-up hook runs the page once in the background, so imports, data, analysis
and map are ready before the first visitor comes (``benchmarks/bench_app.py`` measures it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from streamlit.runtime.scriptrunner import get_script_run_ctx

_LOG = logging.getLogger("dorfkarte.app")


@contextlib.asynccontextmanager
async def warm_up(app: Any = None) -> AsyncIterator[None]:
    """Run the page once, headless, right after the server starts.

    Streamlit runs a script only when a browser connects, so the first visitor used to wait
    for the imports (~4 s) and the first analysis and map (~2-3 s). Streamlit's own script
    check runs the page now instead and fills the process-wide caches of
    ``dorfkarte.ui.data``; the server answers at once (nothing heavy is imported here), and a
    visitor arriving during the run waits only for what is left (the caches lock per key).
    """
    from streamlit import runtime

    async def run() -> None:
        try:
            ok, msg = await runtime.get_instance().does_script_run_without_error()
        except Exception as exc:  # an optimisation only: never take the server down
            _LOG.warning("dorfkarte: Vorwärmen fehlgeschlagen: %s", exc)
            return
        if not ok:
            _LOG.warning("dorfkarte: Vorwärmen ohne Erfolg (%s); die Seite zeigt den Fehler", msg)

    task = asyncio.create_task(run())
    try:
        yield
    finally:
        task.cancel()


if get_script_run_ctx(suppress_warning=True) is None:
    from streamlit.starlette import App

    app = App(__file__, lifespan=warm_up)
else:
    from dorfkarte.ui.page import main

    main()
