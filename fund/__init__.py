"""The kernel of the fund, on the ground floor: the domain error and input checks, the access
policy, the service plumbing, the admin and API plumbing and the public codelists.

Every app imports from here; nothing here imports an app (docs/architecture.md)."""
