"""The browser app (`geo-app app`): see, edit, save and compare plans on a map.

Only this package imports Streamlit. `main.py` is the Streamlit entry script (`st.navigation`
over the four `page_*` scripts, each its own URL); `launch.launch()` starts it; `workspace`
holds the workspace operations (open, start, import, restore history, save, edit, export) with
no Streamlit; `state` keeps one user's workspace in the Streamlit session; `mapview` turns a
plan into the offline map component; `charts` builds the age chart as a Vega-Lite spec.
"""
