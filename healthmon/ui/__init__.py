"""The thin Streamlit layer: the only part of healthmon that imports streamlit."""
