"""undersign: one petition, several co-sponsoring organizations, one shared count."""

from undersign.app import create_app

__all__ = ["create_app"]
