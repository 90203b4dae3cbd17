"""Two-step log-in: a time-based code from an authenticator app (TOTP) and one-time recovery codes."""
