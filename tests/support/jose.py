"""An independent JOSE implementation (jwcrypto) for interoperability tests.

    jose.py encrypt PASSPHRASE OUT_FILE   < plaintext   writes a compact JWE as aws-vault does
    jose.py decrypt PASSPHRASE IN_FILE    > plaintext   decrypts one

The passphrase is read from the environment variable named by PASSPHRASE, so it never
appears in argv.
"""
import base64
import json
import os
import sys

from jwcrypto import jwe, jwk


def key(var):
    secret = os.environ[var].encode()
    return jwk.JWK(kty="oct", k=base64.urlsafe_b64encode(secret).rstrip(b"=").decode())


def main():
    action, var, path = sys.argv[1:4]
    if action == "encrypt":
        header = {"alg": "PBES2-HS256+A128KW", "enc": "A256GCM", "p2c": 8192,
                  "p2s": base64.urlsafe_b64encode(os.urandom(12)).rstrip(b"=").decode(),
                  "created": "2024-01-02 03:04:05.123 +0000 UTC m=+0.01"}
        token = jwe.JWE(sys.stdin.buffer.read(), protected=json.dumps(header))
        token.add_recipient(key(var))
        with open(path, "w") as out:
            out.write(token.serialize(compact=True))
    elif action == "decrypt":
        token = jwe.JWE()
        with open(path) as f:
            token.deserialize(f.read().strip(), key=key(var))
        sys.stdout.buffer.write(token.payload)
    else:
        sys.exit(f"unknown action {action}")


if __name__ == "__main__":
    main()
