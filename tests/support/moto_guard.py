"""Runs moto_server until this script's stdin closes, so a test run that ends, however it
ends, never leaves a moto server behind.

    moto_guard.py MOTO_SERVER PORT
"""
import subprocess
import sys

server = subprocess.Popen([sys.argv[1], "-H", "127.0.0.1", "-p", sys.argv[2]],
                          stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    sys.stdin.read()
finally:
    server.kill()
    server.wait()
