"""The routes that are not canned queries: status, rebuild, health."""
