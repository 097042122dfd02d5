"""One adapter module per warehouse engine, as the setting names it."""
