"""The app's panels: runs table, charts, GPU panel, run details."""
