"""A build stage by stage: profile, load, strategy, build, sync, lock."""
