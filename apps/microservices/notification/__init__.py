"""Notification service: tells the customer each outcome of a booking, once per outcome."""
