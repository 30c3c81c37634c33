"""What every architecture runs the same way: process hygiene, settings, retries, HTTP helpers,
launching, seeding, and the SQL of the rules both architectures share (holds, availability,
catalog, booking rows), so a comparison between them measures the architecture, not the code.

Imports go one way: the platform uses the domain (apps.booking) and the contract (apps.contract);
the architectures use the platform; the platform never imports an architecture.
"""
