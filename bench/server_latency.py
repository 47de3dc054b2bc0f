"""Latency of the credential server, measured from inside `vault exec --server`: 1,000
sequential requests on one kept-alive loopback connection, after 50 warm-up requests.
Budget: p99 under 2 ms."""
import http.client
import os
import time
import urllib.parse

url = urllib.parse.urlparse(os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"])
headers = {"Authorization": os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"]}
connection = http.client.HTTPConnection(url.hostname, url.port)


def request():
    connection.request("GET", url.path, headers=headers)
    answer = connection.getresponse()
    answer.read()
    assert answer.status == 200, answer.status


for _ in range(50):
    request()
times = []
for _ in range(1000):
    start = time.perf_counter()
    request()
    times.append((time.perf_counter() - start) * 1000)
times.sort()
print(
    "credential server, 1,000 warm requests: "
    f"p50 {times[499]:.3f} ms, p99 {times[989]:.3f} ms, max {times[-1]:.3f} ms"
)
