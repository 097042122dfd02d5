"""The mirror as the API reads it: a bounded pool of read-only connections."""
