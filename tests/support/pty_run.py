"""Runs a command on a new pseudo-terminal that becomes its controlling terminal, answers its
prompts, and prints everything the terminal showed.

    pty_run.py SCRIPT_JSON -- CMD ARGS...

SCRIPT_JSON is a list of [expected_text, answer] pairs: wait until the terminal has shown
expected_text (since the previous match), then type answer. The exit code is the command's;
124 means an expected text never came (the transcript says which).
"""
import json
import os
import pty
import select
import sys
import time

TIMEOUT = 20.0


def main():
    script = json.loads(sys.argv[1])
    argv = sys.argv[sys.argv.index("--") + 1:]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(argv[0], argv)
    seen = b""
    cursor = 0
    deadline = time.monotonic() + TIMEOUT
    steps = list(script)
    while True:
        if steps:
            expected = steps[0][0].encode()
            at = seen.find(expected, cursor)
            if at >= 0:
                cursor = at + len(expected)
                # Answer as a person would, not within the microsecond between a prompt being
                # shown and the program turning echo off.
                time.sleep(0.1)
                os.write(fd, steps.pop(0)[1].encode())
                continue
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            sys.stdout.write(seen.decode(errors="replace"))
            sys.stdout.write(f"\n[pty_run: timed out waiting for {steps[0][0]!r}]\n" if steps else "\n[pty_run: timed out]\n")
            os.kill(pid, 9)
            sys.exit(124)
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            chunk = b""
        if not chunk:
            break
        seen += chunk
    _, status = os.waitpid(pid, 0)
    sys.stdout.write(seen.decode(errors="replace"))
    if steps:
        sys.stdout.write(f"\n[pty_run: never saw {steps[0][0]!r}]\n")
        sys.exit(124)
    sys.exit(os.waitstatus_to_exitcode(status))


if __name__ == "__main__":
    main()
