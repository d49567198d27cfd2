"""JSON API v1 for NGO systems, authenticated by organization API tokens."""
