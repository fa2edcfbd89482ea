"""Golden snapshots of geo-app's outputs (harness.py) and the committed snapshots (*.json)."""
