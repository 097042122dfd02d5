"""The FastAPI application: routes, middleware, limits, logging, serve."""
