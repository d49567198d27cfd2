"""Petitions: drafting, publishing, co-sponsorship, updates, organizer dashboard."""
