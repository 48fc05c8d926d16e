"""Data sources: OpenStreetMap (Overpass or local extract) and GTFS transit stops."""
