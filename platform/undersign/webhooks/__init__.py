"""Webhooks: an organization's endpoints told of signatures and campaign changes (Standard Webhooks)."""
