"""Uploaded pictures (organization logos, petition images): the model, the store that re-encodes
them, the route that serves them and the helper that builds their URL (`undersign.images.urls`)."""
