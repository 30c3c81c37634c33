"""The HTTP contract every architecture serves: request validation, error codes, OpenAPI document.

Imports go one way: the contract uses the domain (apps.booking); the platform and the
architectures use the contract; the contract never imports them.
"""
