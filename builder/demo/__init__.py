"""Synthetic practices with every data trap, and the demo as a library."""
