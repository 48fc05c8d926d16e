from streamlit.runtime.scriptrunner import get_script_run_ctx
if get_script_run_ctx(suppress_warning=True) is None:
    from streamlit.starlette import App
    import app as _a
    app = App(__file__, lifespan=_a.warm_up)
else:
    import dorfkarte.ui.page as pg
    pg.render_profile = lambda ctx: None
    pg.main()
