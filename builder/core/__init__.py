"""What the builder's rooms and the API share: settings, errors, names, SQL."""
