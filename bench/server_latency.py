"""Latency of the credential server, measured from inside `vault exec --server` or
`vault exec --ec2-server`, or from a shell `vault use --agent` pointed at the agent (its token
then read from AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE): 1,000 sequential requests for the
credentials on one kept-alive loopback connection, after 50 warm-up requests. For the EC2
metadata endpoint each request carries an IMDSv2 session token fetched once, as SDKs reuse
theirs. Then the same again on a new connection while 2,000 idle connections are held open by
another process, as another local user could. Budget: p99 under 2 ms, and within a factor of 2
of that during the flood."""
import http.client
import os
import subprocess
import sys
import time
import urllib.parse

FLOOD = """
import socket, sys, time
held = []
for _ in range(2000):
    s = socket.socket()
    s.setblocking(False)
    s.connect_ex(("127.0.0.1", int(sys.argv[1])))
    held.append(s)
time.sleep(1)
print("flooding", flush=True)
time.sleep(600)
"""

if "AWS_EC2_METADATA_SERVICE_ENDPOINT" in os.environ:
    name = "metadata server (--ec2-server)"
    url = urllib.parse.urlparse(os.environ["AWS_EC2_METADATA_SERVICE_ENDPOINT"])
    path = url.path + "latest/meta-data/iam/security-credentials/local-credentials"
else:
    url = urllib.parse.urlparse(os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"])
    path = url.path
    if "AWS_CONTAINER_AUTHORIZATION_TOKEN" in os.environ:
        name = "credential server (--server)"
        authorization = os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"]
    else:
        # `vault use --agent` puts the token in a private file, which SDKs read as it is.
        name = "agent (use --agent)"
        with open(os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"]) as token_file:
            authorization = token_file.read()
connection = http.client.HTTPConnection(url.hostname, url.port)


def send(method, path, headers):
    connection.request(method, path, headers=headers)
    answer = connection.getresponse()
    body = answer.read()
    assert answer.status == 200, (answer.status, body)
    return body


if "AWS_EC2_METADATA_SERVICE_ENDPOINT" in os.environ:
    token = send("PUT", url.path + "latest/api/token", {"X-aws-ec2-metadata-token-ttl-seconds": "300"})
    headers = {"X-aws-ec2-metadata-token": token.decode()}
else:
    headers = {"Authorization": authorization}



def measure(label):
    for _ in range(50):
        send("GET", path, headers)
    times = []
    for _ in range(1000):
        start = time.perf_counter()
        send("GET", path, headers)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    print(
        f"{name}, 1,000 warm requests{label}: "
        f"p50 {times[499]:.3f} ms, p99 {times[989]:.3f} ms, max {times[-1]:.3f} ms"
    )


measure("")
flood = subprocess.Popen([sys.executable, "-c", FLOOD, str(url.port)], stdout=subprocess.PIPE, text=True)
assert flood.stdout.readline() == "flooding\n"
# The kept-alive connection was idle the longest when the flood came, so it made room: a new one.
connection.close()
connection = http.client.HTTPConnection(url.hostname, url.port)
measure(" with 2,000 idle connections open")
flood.kill()
