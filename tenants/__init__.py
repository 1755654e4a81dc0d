"""The vendor business: Tenant, its domains, its staff; and which tenant a request's host names."""
