"""Delivering a petition: the packet for its decision maker, their response, and the outcome."""
