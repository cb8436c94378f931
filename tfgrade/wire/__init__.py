"""The wire between the trusted side and the sandbox: framing, values, messages. Both sides import it; it imports neither."""
