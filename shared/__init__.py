"""What both sides use: extensions, the domain core and its backends."""
