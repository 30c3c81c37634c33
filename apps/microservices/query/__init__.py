"""The query service: read models built from every service's events, serving the contract's GETs."""
