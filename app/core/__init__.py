"""What the API's rooms share: the error shape, tokens, timestamps, version."""
