"""A corporate proxy for tests: a forward HTTP proxy on a free loopback port that tunnels
`CONNECT host:port`, relays absolute-form requests (`POST http://host/...`), can demand
`Proxy-Authorization: Basic` (407 otherwise), and knows host names nobody else can resolve
(`--route aws.vault-proxy.test=PORT`): a request that bypasses it fails with a DNS error.

A tunnel to a routed name on port 443 ends in TLS here, with a certificate for that name from
a throw-away CA (`ca.pem` in `--dir`, for SSL_CERT_FILE), and the request inside goes to the
routed port as plain HTTP: the TLS front moto and the other stand-ins lack. Other names are
refused (502); IP addresses and `localhost` are reached directly, as a real proxy would.

Each request is one line in `--dir/requests.log`: `METHOD HOST:PORT STATUS`. Every
connection carries one request and is then closed, so the lines count requests.

    forward_proxy.py --dir DIR [--auth USER:PASS] [--route HOST=PORT]...

Prints `listening on PORT` once ready; runs until its stdin closes.
"""
import argparse
import base64
import datetime
import os
import socket
import socketserver
import ssl
import sys
import threading

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

LOG_LOCK = threading.Lock()


def make_certificates(directory, names):
    """A CA (ca.pem) and a server certificate for `names` it signed (server.pem, key.pem)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "vault test proxy CA")])
    ca = (x509.CertificateBuilder()
          .subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(hours=1))
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False,
                                       encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                         critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    server = (x509.CertificateBuilder()
              .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
              .issuer_name(ca_name)
              .public_key(key.public_key())
              .serial_number(x509.random_serial_number())
              .not_valid_before(now - datetime.timedelta(hours=1))
              .not_valid_after(now + datetime.timedelta(days=1))
              .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]),
                             critical=False)
              .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
              .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                             critical=False)
              .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                  ca_key.public_key()), critical=False)
              .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    with open(os.path.join(directory, "ca.pem"), "wb") as f:
        f.write(ca.public_bytes(pem))
    with open(os.path.join(directory, "server.pem"), "wb") as f:
        f.write(server.public_bytes(pem))
    with open(os.path.join(directory, "key.pem"), "wb") as f:
        f.write(key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))


def read_head(stream):
    """Bytes up to and including the blank line, and whatever came after them."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = stream.recv(65536)
        if not chunk:
            raise ConnectionError("closed before the end of the head")
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    return head.decode("latin-1"), rest


def header(lines, name):
    for line in lines:
        key, _, value = line.partition(":")
        if key.strip().lower() == name:
            return value.strip()
    return None


def split_target(authority, default_port):
    host, _, port = authority.rpartition(":")
    if not host or not port.isdigit():
        return authority, default_port
    return host.strip("[]"), int(port)


class Proxy(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, options):
        super().__init__(("127.0.0.1", 0), Handler)
        self.options = options
        self.routes = dict(r.split("=", 1) for r in options.route)
        self.log_path = os.path.join(options.dir, "requests.log")
        open(self.log_path, "w").close()
        self.tls = None
        if self.routes:
            make_certificates(options.dir, list(self.routes))
            self.tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self.tls.load_cert_chain(os.path.join(options.dir, "server.pem"),
                                     os.path.join(options.dir, "key.pem"))

    def record(self, method, host, port, status):
        with LOG_LOCK, open(self.log_path, "a") as log:
            log.write(f"{method} {host}:{port} {status}\n")

    def backend(self, host, port):
        """Where a request for host:port goes, or None when no one knows the name."""
        if host in self.routes:
            return ("127.0.0.1", int(self.routes[host]))
        if host == "localhost" or host.replace(".", "").isdigit() or ":" in host:
            return (host, port)
        return None


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        proxy = self.server
        client = self.request
        client.settimeout(30)
        try:
            head, rest = read_head(client)
        except (ConnectionError, OSError):
            return
        lines = head.split("\r\n")
        method, target, _version = lines[0].split(" ", 2)
        if method == "CONNECT":
            host, port = split_target(target, 443)
        else:
            scheme, _, remainder = target.partition("://")
            authority, slash, path = remainder.partition("/")
            host, port = split_target(authority, 443 if scheme == "https" else 80)
            lines[0] = f"{method} /{path} HTTP/1.1" if slash else f"{method} / HTTP/1.1"
        if proxy.options.auth:
            expected = "Basic " + base64.b64encode(proxy.options.auth.encode()).decode()
            if header(lines[1:], "proxy-authorization") != expected:
                proxy.record(method, host, port, 407)
                client.sendall(b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                               b"Proxy-Authenticate: Basic realm=\"vault-test\"\r\n"
                               b"Content-Length: 0\r\nConnection: close\r\n\r\n")
                return
        backend = proxy.backend(host, port)
        if backend is None:
            proxy.record(method, host, port, 502)
            client.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n"
                           b"Connection: close\r\n\r\n")
            return
        proxy.record(method, host, port, 200)
        if method == "CONNECT":
            client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            stream = client
            if host in proxy.routes and port == 443:
                stream = proxy.tls.wrap_socket(client, server_side=True)
            head, rest = read_head(stream)
            lines = head.split("\r\n")
        relay(stream if method == "CONNECT" else client, lines, rest, backend)


def relay(stream, lines, rest, backend):
    """Sends one request to `backend` and its whole answer back, then closes."""
    kept = [l for l in lines[1:]
            if header([l], "proxy-authorization") is None
            and header([l], "proxy-connection") is None
            and header([l], "connection") is None]
    length = int(header(kept, "content-length") or 0)
    body = rest
    while len(body) < length:
        chunk = stream.recv(65536)
        if not chunk:
            break
        body += chunk
    request = "\r\n".join([lines[0]] + kept + ["Connection: close", "", ""]).encode("latin-1")
    with socket.create_connection(backend, timeout=30) as upstream:
        upstream.sendall(request + body)
        answer = b""
        while True:
            chunk = upstream.recv(65536)
            if not chunk:
                break
            answer += chunk
    answer_head, _, answer_body = answer.partition(b"\r\n\r\n")
    answer_lines = [l for l in answer_head.split(b"\r\n")
                    if not l.lower().startswith(b"connection:")]
    stream.sendall(b"\r\n".join(answer_lines + [b"Connection: close", b"", b""]) + answer_body)
    try:
        stream.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--auth")
    parser.add_argument("--route", action="append", default=[])
    server = Proxy(parser.parse_args())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"listening on {server.server_address[1]}", flush=True)
    sys.stdin.read()


if __name__ == "__main__":
    main()
