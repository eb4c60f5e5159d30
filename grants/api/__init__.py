"""The embassy REST API (/api/v1/); see README "Embassy API"."""
