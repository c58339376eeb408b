"""The HTTP API (FastAPI) for facility managers and sharing platforms, and the web page."""
