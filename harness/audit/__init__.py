"""`archbench audit`: coupling of both architectures (static, data, contracts, runtime,
availability), the well-designed-service checklist, and the scorecard that turns each claim of
the monolith/microservices debate into a measured verdict, a structural fact or a claim not
measurable here (claims.yaml, claims.py, evidence.py, scorecard.py)."""
