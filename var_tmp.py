import os
from streamlit.runtime.scriptrunner import get_script_run_ctx
if get_script_run_ctx(suppress_warning=True) is None:
    from streamlit.starlette import App
    import app as _a
    app = App(__file__, lifespan=_a.warm_up)
else:
    import streamlit as st
    import dorfkarte.ui.profile as pf
    import types
    v = os.environ.get("VARIANT", "")
    class S(types.SimpleNamespace): pass
    fake = types.ModuleType("stfake")
    for k in dir(st):
        if not k.startswith("__"): setattr(fake, k, getattr(st, k))
    if "table" in v:
        fake.dataframe = lambda df, **kw: st.table(df)
    if "nochart" in v:
        fake.vega_lite_chart = lambda *a, **kw: None
    pf.st = fake
    import dorfkarte.ui.page as pg
    pg.main()
