"""Inventory service: owns the catalog and the holds per (room type, night); reserves or refuses
the rooms of each requested booking and releases them when the booking fails or is cancelled."""
