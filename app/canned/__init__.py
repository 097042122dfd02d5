"""The read routes: declarations, parameters, cursors, models, the handler."""
