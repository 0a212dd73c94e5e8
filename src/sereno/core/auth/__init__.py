"""Users, roles, monitoring centres and centre scoping; sessions and API tokens."""
