"""Payment service: authorizes the card of each reserved booking and refunds cancelled ones,
through the external payment provider, once per booking however often an event is delivered."""
