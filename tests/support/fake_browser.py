"""A fake $BROWSER for tests: logs the URL it is launched with and fetches it as a browser
would, following redirects, then exits 0 whatever the page answered (a browser does not fail
its opener).

    fake_browser.py [--log FILE] URL

The log is FILE, else $FAKE_BROWSER_LOG; one line (the URL) is appended per launch. With
FAKE_BROWSER_FETCH=0 it only logs (a user who never signs in); FAKE_BROWSER_DELAY=SECONDS waits
before fetching (a user who takes a while). HTTP only, no proxies. It
prints nothing: its output would be mixed into vault's.
"""
import http.client
import os
import sys
import time
import urllib.error
import urllib.request


def main():
    args = sys.argv[1:]
    log = os.environ.get("FAKE_BROWSER_LOG")
    if len(args) >= 2 and args[0] == "--log":
        log, args = args[1], args[2:]
    if len(args) != 1:
        sys.stderr.write("usage: fake_browser.py [--log FILE] URL\n")
        return 2
    url = args[0]
    if log:
        with open(log, "a", encoding="utf-8") as f:
            f.write(url + "\n")
    if os.environ.get("FAKE_BROWSER_FETCH", "1") == "0":
        return 0
    time.sleep(float(os.environ.get("FAKE_BROWSER_DELAY", "0")))
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=30) as page:
            page.read()
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError):
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
