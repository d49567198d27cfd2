"""Updates e-mailed to the supporters who agreed to hear from the sponsor that posted them.

A domain above `campaigns` (the update) and `signatures` (the consents): a
mailing row per e-mailed update, a recipient row per signature it reached,
the background job that fills the outbox in batches, and the one-click
unsubscribe that withdraws a consent.
"""
