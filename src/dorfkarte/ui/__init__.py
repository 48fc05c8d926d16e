"""Streamlit building blocks. ``app.py`` only wires these; all logic is in the library."""
