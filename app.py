"""dorfkarte Streamlit app: ``streamlit run app.py`` (all logic lives in the library)."""

from dorfkarte.ui.page import main

main()
