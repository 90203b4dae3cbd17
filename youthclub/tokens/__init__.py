"""Personal API tokens (``Authorization: Bearer …``) that a user creates and revokes."""
