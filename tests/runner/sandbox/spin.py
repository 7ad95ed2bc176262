"""Burns CPU for ever. argv[1]: a marker that names this process in the host's process list."""
while True:
    pass
