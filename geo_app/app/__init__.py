"""The browser app (`geo-app app`): see, edit, save and compare plans on a map.

Only this package (and geo_app.views.webmap) imports Streamlit / folium. `main.py` is the Streamlit
entry script; `launch.launch()` starts it; `state` keeps one user's workspace (plan, edit
history, live areas) in the Streamlit session; `mapview` turns a plan into the offline
streamlit-folium map; the `page_*` modules draw the four pages.
"""
