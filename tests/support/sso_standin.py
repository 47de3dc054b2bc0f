"""A stand-in for IAM Identity Center: the OIDC service (sso-oidc) and the access portal (sso)
on one loopback port, for tests. moto has neither.

    sso_standin.py --port 0 --moto http://127.0.0.1:PORT [--moto-keys ID:SECRET] [--verbose]

The first line on stdout is `listening on http://127.0.0.1:N`. It runs until its stdin closes
or it gets SIGTERM.

Every API request is checked against the operation's input shape in botocore's service models
(location of each member, required members, types, no unknown members); a violation answers
400 with the model's InvalidRequestException. Errors use the model's error shapes: OIDC errors
`{"error": "...", "error_description": "..."}`, portal errors `{"message": "..."}`, each with
`x-amzn-ErrorType: <ShapeName>` and the shape's HTTP status. The portal's ForbiddenException
(403, `{"message": "No access"}`) is what the real service answers for an account or role the
user may not use, although the model lacks it.

Besides the APIs: GET /authorize (the browser page of the authorization-code grant: answers 302
to the redirect URI with `code` and `state`, or `error=access_denied`), GET /device?user_code=X
(the user approving a device authorization), and the test controls under /__control/:
GET /__control/stats, GET and POST /__control/config. Role credentials come from moto: an STS
AssumeRole of arn:aws:iam::ACCOUNT:role/ROLE with the session name `sso-user`.

Standard library and botocore only.
"""

import argparse
import base64
import collections
import hashlib
import html
import json
import os
import re
import secrets
import signal
import sys
import threading
import time
import traceback
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import botocore.session
from botocore.loaders import Loader

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
GRANTS = ("authorization_code", DEVICE_GRANT, "refresh_token")
REFRESH_SCOPE = "sso:account:access"
USER = "sso-user"
REQUEST_LOG_SIZE = 100
AUTH_CODE_TTL = 300

# The OAuth `error` codes of the OIDC error shapes (RFC 6749 §5.2, RFC 8628 §3.5).
OIDC_ERROR_CODES = {
    "AccessDeniedException": "access_denied",
    "AuthorizationPendingException": "authorization_pending",
    "ExpiredTokenException": "expired_token",
    "InternalServerException": "server_error",
    "InvalidClientException": "invalid_client",
    "InvalidClientMetadataException": "invalid_client_metadata",
    "InvalidGrantException": "invalid_grant",
    "InvalidRedirectUriException": "invalid_redirect_uri",
    "InvalidRequestException": "invalid_request",
    "InvalidScopeException": "invalid_scope",
    "SlowDownException": "slow_down",
    "UnauthorizedClientException": "unauthorized_client",
    "UnsupportedGrantTypeException": "unsupported_grant_type",
}

# The settings POST /__control/config takes: numbers, and booleans (the last three are actions).
NUMBERS = (
    "access_token_ttl",
    "role_credentials_ttl",
    "client_secret_ttl",
    "device_expires_in",
    "device_interval",
    "page_size",
)
FLAGS = ("deny_authorization", "revoke_refresh_tokens", "expire_access_tokens", "expire_clients")
CLIENT_FIELDS = (
    "clientId",
    "clientName",
    "clientType",
    "scopes",
    "grantTypes",
    "redirectUris",
    "issuerUrl",
)

# Error shapes the real service answers with that its model does not define.
EXTRA_ERRORS = {"ForbiddenException": 403}

DEFAULT_ASSIGNMENTS = [
    {
        "accountId": "111111111111",
        "accountName": "dev",
        "emailAddress": "dev@example.com",
        "roles": ["Developer"],
    }
]

VERBOSE = False


def log(message):
    if VERBOSE:
        print(message, file=sys.stderr, flush=True)


class ApiError(Exception):
    """An error answer in the shape `shape` of the service the request went to."""

    def __init__(self, shape, description):
        super().__init__(f"{shape}: {description}")
        self.shape = shape
        self.description = description


class Invalid(Exception):
    """A request that does not fit the model."""


class ServiceModel:
    """One botocore service model: routes requests to operations and checks their input."""

    def __init__(self, name, kind):
        self.name = name
        self.kind = kind  # "oidc" or "portal": how its errors look
        self.model = Loader().load_service_model(name, "service-2")
        self.shapes = self.model["shapes"]
        self.routes = []
        for op_name, op in self.model["operations"].items():
            path, _, literal = op["http"]["requestUri"].partition("?")
            literal = dict(urllib.parse.parse_qsl(literal, keep_blank_values=True))
            self.routes.append((op["http"]["method"], path, literal, op_name))
        # The most specific route (most literal query parameters) first.
        self.routes.sort(key=lambda r: -len(r[2]))

    def route(self, method, path, query):
        for r_method, r_path, literal, op_name in self.routes:
            if r_method == method and r_path == path and all(
                query.get(k) == [v] for k, v in literal.items()
            ):
                return op_name, literal
        return None, None

    def operation(self, op_name):
        return self.model["operations"][op_name]

    def error_status(self, shape):
        if shape in EXTRA_ERRORS:
            return EXTRA_ERRORS[shape]
        return self.shapes[shape]["error"]["httpStatusCode"]

    def error_body(self, shape, description):
        if self.kind == "oidc":
            body = {"error": OIDC_ERROR_CODES.get(shape, "invalid_request"), "error_description": description}
        else:
            body = {"message": description}
        members = self.shapes.get(shape, {}).get("members")
        if members is not None:
            assert set(body) <= set(members), f"{shape} has no member for {sorted(body)}"
        return body

    # -- input ------------------------------------------------------------------------------

    def parse_input(self, op_name, literal, headers, query, body):
        """The operation's parameters from the request, checked against the input shape."""
        op = self.operation(op_name)
        if "input" not in op:
            return {}
        shape = self.shapes[op["input"]["shape"]]
        members = shape.get("members", {})
        params = {}
        body_members = {}
        query_names = set(literal)
        for name, member in members.items():
            location = member.get("location")
            wire = member.get("locationName", name)
            if location == "header":
                value = headers.get(wire)
                if value is not None:
                    params[name] = self.scalar(member["shape"], value, f"header {wire}")
            elif location == "querystring":
                query_names.add(wire)
                values = query.get(wire)
                if values is None:
                    continue
                target = self.shapes[member["shape"]]
                if target["type"] == "list":
                    item = target["member"]["shape"]
                    params[name] = [self.scalar(item, v, f"query {wire}") for v in values]
                elif len(values) != 1:
                    raise Invalid(f"query parameter {wire} is given {len(values)} times")
                else:
                    params[name] = self.scalar(member["shape"], values[0], f"query {wire}")
            elif location is None:
                body_members[wire] = (name, member)
            else:
                raise Invalid(f"the stand-in does not handle members located in {location}")
        unknown = sorted(set(query) - query_names)
        if unknown:
            raise Invalid(f"unknown query parameter(s) {', '.join(unknown)}")
        if body_members:
            if body.strip():
                try:
                    document = json.loads(body)
                except ValueError as e:
                    raise Invalid(f"the body is not JSON: {e}") from None
            else:
                document = {}
            if not isinstance(document, dict):
                raise Invalid("the body is not a JSON object")
            for key, value in document.items():
                if key not in body_members:
                    raise Invalid(f"unknown member {key!r} in the body")
                if value is None:
                    continue
                name, member = body_members[key]
                params[name] = self.value(member["shape"], value, key)
        elif body.strip() not in (b"", b"{}"):
            raise Invalid(f"{op_name} takes no body")
        for name in shape.get("required", []):
            if name not in params:
                raise Invalid(
                    f"1 validation error detected: Value null at '{name}' failed to satisfy "
                    "constraint: Member must not be null"
                )
        return params

    def scalar(self, shape_name, text, where):
        """A header or query value of a scalar shape."""
        shape = self.shapes[shape_name]
        kind = shape["type"]
        if kind == "string":
            self.check_length(shape, text, where)
            return text
        if kind in ("integer", "long"):
            if not re.fullmatch(r"-?[0-9]+", text):
                raise Invalid(f"{where}: {text!r} is not an integer")
            number = int(text)
            self.check_range(shape, number, where)
            return number
        if kind == "boolean":
            if text not in ("true", "false"):
                raise Invalid(f"{where}: {text!r} is not a boolean")
            return text == "true"
        if kind == "timestamp":
            return text
        raise Invalid(f"{where}: a {kind} cannot be given in a header or query")

    def value(self, shape_name, value, where):
        """A JSON body value of `shape_name`, checked."""
        shape = self.shapes[shape_name]
        kind = shape["type"]
        if kind == "structure":
            if not isinstance(value, dict):
                raise Invalid(f"{where}: expected an object")
            members = shape.get("members", {})
            out = {}
            for key, item in value.items():
                if key not in members:
                    raise Invalid(f"{where}: unknown member {key!r}")
                if item is not None:
                    out[key] = self.value(members[key]["shape"], item, f"{where}.{key}")
            for name in shape.get("required", []):
                if name not in out:
                    raise Invalid(f"{where}: member {name!r} is required")
            return out
        if kind == "list":
            if not isinstance(value, list):
                raise Invalid(f"{where}: expected a list")
            return [self.value(shape["member"]["shape"], v, f"{where}[{i}]") for i, v in enumerate(value)]
        if kind == "map":
            if not isinstance(value, dict):
                raise Invalid(f"{where}: expected a map")
            return {
                self.value(shape["key"]["shape"], k, f"{where} key"): self.value(
                    shape["value"]["shape"], v, f"{where}[{k!r}]"
                )
                for k, v in value.items()
            }
        if kind == "string":
            if not isinstance(value, str):
                raise Invalid(f"{where}: expected a string")
            self.check_length(shape, value, where)
            return value
        if kind in ("integer", "long"):
            if isinstance(value, bool) or not isinstance(value, int):
                raise Invalid(f"{where}: expected an integer")
            self.check_range(shape, value, where)
            return value
        if kind in ("float", "double"):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise Invalid(f"{where}: expected a number")
            return value
        if kind == "boolean":
            if not isinstance(value, bool):
                raise Invalid(f"{where}: expected a boolean")
            return value
        if kind == "timestamp":
            if isinstance(value, bool) or not isinstance(value, (int, float, str)):
                raise Invalid(f"{where}: expected a timestamp")
            return value
        if kind == "blob":
            if not isinstance(value, str):
                raise Invalid(f"{where}: expected base64 text")
            try:
                base64.b64decode(value, validate=True)
            except ValueError:
                raise Invalid(f"{where}: not base64") from None
            return value
        raise Invalid(f"{where}: the stand-in does not handle {kind}")

    @staticmethod
    def check_length(shape, text, where):
        if "min" in shape and len(text) < shape["min"]:
            raise Invalid(f"{where}: shorter than {shape['min']}")
        if "max" in shape and len(text) > shape["max"]:
            raise Invalid(f"{where}: longer than {shape['max']}")

    @staticmethod
    def check_range(shape, number, where):
        if "min" in shape and number < shape["min"]:
            raise Invalid(f"{where}: {number} is below {shape['min']}")
        if "max" in shape and number > shape["max"]:
            raise Invalid(f"{where}: {number} is above {shape['max']}")

    # -- output -----------------------------------------------------------------------------

    def check_output(self, op_name, payload):
        """The stand-in's own answer must fit the output shape (catches typos here)."""
        op = self.operation(op_name)
        if "output" not in op:
            assert payload is None, f"{op_name} has no output"
            return
        self.value(op["output"]["shape"], payload, f"{op_name} output")


def token(prefix, size=32):
    return prefix + secrets.token_urlsafe(size)


def pkce_challenge(verifier):
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def loopback_match(registered, given):
    """Whether `given` is the registered redirect URI. For loopback addresses any port matches
    (RFC 8252 §7.3): the AWS CLI registers `http://127.0.0.1/oauth/callback` and then sends its
    listener's port."""
    if registered == given:
        return True
    a, b = urllib.parse.urlsplit(registered), urllib.parse.urlsplit(given)
    return (
        a.scheme == b.scheme == "http"
        and a.hostname == b.hostname
        and a.hostname in ("127.0.0.1", "::1", "localhost")
        and a.port is None
        and a.path == b.path
        and a.query == b.query
    )


class State:
    """Everything the stand-in remembers; every access holds `lock`."""

    def __init__(self, base_url):
        self.lock = threading.Lock()
        self.base_url = base_url
        self.config = {
            "access_token_ttl": 3600,
            "role_credentials_ttl": 3600,
            "client_secret_ttl": 90 * 86400,
            "device_expires_in": 600,
            "device_interval": 1,
            "page_size": 20,
            "deny_authorization": False,
            "assignments": json.loads(json.dumps(DEFAULT_ASSIGNMENTS)),
        }
        self.clients = {}
        self.devices = {}
        self.user_codes = {}
        self.codes = {}
        self.access_tokens = {}
        self.refresh_tokens = {}
        self.operations = collections.Counter()
        self.create_token = collections.Counter()
        self.role_credentials = collections.Counter()
        self.errors = collections.Counter()
        self.authorize = 0
        self.device_approvals = 0
        self.device_denials = 0
        self.internal_errors = []
        self.requests = collections.deque(maxlen=REQUEST_LOG_SIZE)

    # -- control ----------------------------------------------------------------------------

    def stats(self):
        now = time.time()
        return {
            "operations": dict(self.operations),
            "create_token": dict(self.create_token),
            "role_credentials": dict(self.role_credentials),
            "errors": dict(self.errors),
            "authorize": self.authorize,
            "device_approvals": self.device_approvals,
            "device_denials": self.device_denials,
            "clients": [{k: c[k] for k in CLIENT_FIELDS} for c in self.clients.values()],
            "live_access_tokens": sum(1 for t in self.access_tokens.values() if self.live(t, now)),
            "live_refresh_tokens": sum(1 for t in self.refresh_tokens.values() if t["valid"]),
            "internal_errors": list(self.internal_errors),
            "requests": list(self.requests),
        }

    def configure(self, changes):
        if not isinstance(changes, dict):
            raise Invalid("the configuration is a JSON object")
        for key, value in changes.items():
            if key in NUMBERS:
                if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                    raise Invalid(f"{key} is a number of seconds (or items)")
            elif key in FLAGS:
                if not isinstance(value, bool):
                    raise Invalid(f"{key} is true or false")
            elif key == "assignments":
                check_assignments(value)
            elif key == "approve_device":
                if value not in self.user_codes:
                    raise Invalid(f"no device authorization has the user code {value!r}")
            else:
                raise Invalid(f"unknown setting {key!r}")
        now = time.time()
        for key, value in changes.items():
            if key in NUMBERS or key in ("deny_authorization", "assignments"):
                self.config[key] = value
            elif key == "revoke_refresh_tokens" and value:
                for t in self.refresh_tokens.values():
                    t["valid"] = False
            elif key == "expire_access_tokens" and value:
                for t in self.access_tokens.values():
                    t["expires"] = min(t["expires"], now - 1)
            elif key == "expire_clients" and value:
                for c in self.clients.values():
                    c["expires"] = min(c["expires"], now - 1)
            elif key == "approve_device":
                self.decide_device(value)
        return self.config

    def decide_device(self, user_code):
        """The user at the verification page: approves, or denies when told to."""
        device = self.devices[self.user_codes[user_code]]
        if device["status"] == "pending":
            if self.config["deny_authorization"]:
                device["status"] = "denied"
                self.device_denials += 1
            else:
                device["status"] = "approved"
                self.device_approvals += 1
        return device["status"]

    # -- tokens -----------------------------------------------------------------------------

    @staticmethod
    def live(access, now):
        return not access["revoked"] and access["expires"] > now

    def live_access(self, access_token):
        access = self.access_tokens.get(access_token)
        if access is None or not self.live(access, time.time()):
            raise ApiError("UnauthorizedException", "Session token not found or invalid")
        return access

    def client(self, client_id, client_secret):
        client = self.clients.get(client_id)
        if client is None or not secrets.compare_digest(client["clientSecret"], client_secret):
            raise ApiError("InvalidClientException", "Invalid client id or secret")
        if client["expires"] <= time.time():
            raise ApiError("InvalidClientException", "Client secret has expired")
        return client

    @staticmethod
    def allows(client, grant):
        return client["grantTypes"] is None or grant in client["grantTypes"]

    def issue(self, client):
        now = time.time()
        ttl = self.config["access_token_ttl"]
        access = token("aoa")
        answer = {"accessToken": access, "tokenType": "Bearer", "expiresIn": int(ttl)}
        refresh = None
        if REFRESH_SCOPE in (client["scopes"] or []) and self.allows(client, "refresh_token"):
            refresh = token("aor")
            self.refresh_tokens[refresh] = {"clientId": client["clientId"], "valid": True, "access": access}
            answer["refreshToken"] = refresh
        self.access_tokens[access] = {
            "clientId": client["clientId"],
            "expires": now + ttl,
            "revoked": False,
            "refresh": refresh,
        }
        return answer


def check_assignments(value):
    if not isinstance(value, list):
        raise Invalid("assignments is a list")
    for a in value:
        if not isinstance(a, dict) or set(a) - {"accountId", "accountName", "emailAddress", "roles"}:
            raise Invalid("an assignment is {accountId, accountName, emailAddress, roles}")
        if not isinstance(a.get("accountId"), str) or not isinstance(a.get("roles"), list):
            raise Invalid("an assignment needs accountId and roles")


class StandIn:
    """The operations, on `State`."""

    def __init__(self, state, sts):
        self.state = state
        self.sts = sts

    # -- OIDC -------------------------------------------------------------------------------

    def RegisterClient(self, p):
        if p["clientType"] != "public":
            raise ApiError("InvalidClientMetadataException", "Invalid client type")
        grants = p.get("grantTypes")
        for grant in grants or []:
            if grant not in GRANTS:
                raise ApiError("UnsupportedGrantTypeException", f"Unsupported grant type {grant}")
        redirects = p.get("redirectUris")
        for uri in redirects or []:
            parts = urllib.parse.urlsplit(uri)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ApiError("InvalidRedirectUriException", f"Invalid redirect URI {uri}")
        now = int(time.time())
        s = self.state
        with s.lock:
            client = {
                "clientId": token("", 16),
                "clientSecret": token("", 64),
                "clientName": p["clientName"],
                "clientType": p["clientType"],
                "scopes": p.get("scopes"),
                "grantTypes": grants,
                "redirectUris": redirects,
                "issuerUrl": p.get("issuerUrl"),
                "issued": now,
                "expires": now + int(s.config["client_secret_ttl"]),
            }
            s.clients[client["clientId"]] = client
        return {
            "clientId": client["clientId"],
            "clientSecret": client["clientSecret"],
            "clientIdIssuedAt": now,
            "clientSecretExpiresAt": client["expires"],
        }

    def StartDeviceAuthorization(self, p):
        s = self.state
        with s.lock:
            client = s.client(p["clientId"], p["clientSecret"])
            if not s.allows(client, DEVICE_GRANT):
                raise ApiError("UnauthorizedClientException", f"The client did not register {DEVICE_GRANT}")
            device_code = token("", 48)
            alphabet = "BCDFGHJKLMNPQRSTVWXZ"
            while True:
                raw = "".join(secrets.choice(alphabet) for _ in range(8))
                user_code = f"{raw[:4]}-{raw[4:]}"
                if user_code not in s.user_codes:
                    break
            now = time.time()
            expires_in = int(s.config["device_expires_in"])
            interval = s.config["device_interval"]
            s.devices[device_code] = {
                "clientId": client["clientId"],
                "userCode": user_code,
                "startUrl": p["startUrl"],
                "expires": now + expires_in,
                "interval": interval,
                "status": "pending",
                "last_poll": None,
            }
            s.user_codes[user_code] = device_code
        return {
            "deviceCode": device_code,
            "userCode": user_code,
            "verificationUri": f"{s.base_url}/device",
            "verificationUriComplete": f"{s.base_url}/device?user_code={user_code}",
            "expiresIn": expires_in,
            "interval": max(1, int(interval)),
        }

    def CreateToken(self, p):
        s = self.state
        grant = p["grantType"]
        with s.lock:
            s.create_token[grant] += 1
            client = s.client(p["clientId"], p["clientSecret"])
            if grant not in GRANTS:
                raise ApiError("UnsupportedGrantTypeException", f"Unsupported grant type {grant}")
            if not s.allows(client, grant):
                raise ApiError("UnauthorizedClientException", f"The client did not register {grant}")
            if grant == "authorization_code":
                return self.code_grant(client, p)
            if grant == DEVICE_GRANT:
                return self.device_grant(client, p)
            return self.refresh_grant(client, p)

    def code_grant(self, client, p):
        s = self.state
        for name in ("code", "redirectUri", "codeVerifier"):
            if name not in p:
                raise ApiError("InvalidRequestException", f"{name} is required for authorization_code")
        code = s.codes.get(p["code"])
        if code is None or code["used"] or code["clientId"] != client["clientId"]:
            raise ApiError("InvalidGrantException", "Invalid authorization code")
        if code["expires"] <= time.time():
            raise ApiError("InvalidGrantException", "The authorization code has expired")
        if p["redirectUri"] != code["redirectUri"]:
            raise ApiError("InvalidGrantException", "redirectUri differs from the one authorized")
        if not secrets.compare_digest(pkce_challenge(p["codeVerifier"]), code["challenge"]):
            raise ApiError("InvalidGrantException", "The code verifier does not match the code challenge")
        code["used"] = True
        return s.issue(client)

    def device_grant(self, client, p):
        s = self.state
        if "deviceCode" not in p:
            raise ApiError("InvalidRequestException", "deviceCode is required for the device code grant")
        device = s.devices.get(p["deviceCode"])
        if device is None or device["clientId"] != client["clientId"] or device["status"] == "consumed":
            raise ApiError("InvalidGrantException", "Invalid device code")
        now = time.time()
        if device["expires"] <= now:
            raise ApiError("ExpiredTokenException", "The device code has expired")
        last, device["last_poll"] = device["last_poll"], now
        if last is not None and now - last < device["interval"] * 0.8:
            raise ApiError("SlowDownException", "Client is polling too fast")
        if device["status"] == "denied":
            raise ApiError("AccessDeniedException", "The user denied the authorization")
        if device["status"] == "pending":
            raise ApiError("AuthorizationPendingException", "Authorization is still pending")
        device["status"] = "consumed"
        return s.issue(client)

    def refresh_grant(self, client, p):
        s = self.state
        if "refreshToken" not in p:
            raise ApiError("InvalidRequestException", "refreshToken is required for the refresh_token grant")
        refresh = s.refresh_tokens.get(p["refreshToken"])
        if refresh is None or not refresh["valid"] or refresh["clientId"] != client["clientId"]:
            raise ApiError("InvalidGrantException", "Invalid refresh token provided")
        refresh["valid"] = False
        return s.issue(client)

    # -- portal -----------------------------------------------------------------------------

    def assignment(self, account_id):
        for a in self.state.config["assignments"]:
            if a["accountId"] == account_id:
                return a
        return None

    def GetRoleCredentials(self, p):
        s = self.state
        account, role = p["accountId"], p["roleName"]
        with s.lock:
            s.role_credentials[f"{account}/{role}"] += 1
            s.live_access(p["accessToken"])
            assigned = self.assignment(account)
            if assigned is None or role not in assigned["roles"]:
                raise ApiError("ForbiddenException", "No access")
            ttl = s.config["role_credentials_ttl"]
        if self.sts is None:
            credentials = {
                "AccessKeyId": "ASIA" + secrets.token_hex(8).upper(),
                "SecretAccessKey": secrets.token_urlsafe(30),
                "SessionToken": secrets.token_urlsafe(120),
            }
        else:
            credentials = self.sts.assume_role(
                RoleArn=f"arn:aws:iam::{account}:role/{role}", RoleSessionName=USER
            )["Credentials"]
        return {
            "roleCredentials": {
                "accessKeyId": credentials["AccessKeyId"],
                "secretAccessKey": credentials["SecretAccessKey"],
                "sessionToken": credentials["SessionToken"],
                "expiration": int((time.time() + ttl) * 1000),
            }
        }

    def page(self, kind, items, p):
        size = p.get("maxResults", self.state.config["page_size"])
        start = 0
        if "nextToken" in p:
            try:
                prefix, offset = base64.urlsafe_b64decode(p["nextToken"].encode()).decode().split(":")
                start = int(offset)
                assert prefix == kind and 0 < start <= len(items)
            except Exception:
                raise ApiError("InvalidRequestException", "Invalid next token") from None
        answer = {"accountList" if kind == "accounts" else "roleList": items[start : start + size]}
        if start + size < len(items):
            answer["nextToken"] = base64.urlsafe_b64encode(f"{kind}:{start + size}".encode()).decode()
        return answer

    def ListAccounts(self, p):
        s = self.state
        with s.lock:
            s.live_access(p["accessToken"])
            accounts = [
                {k: a[k] for k in ("accountId", "accountName", "emailAddress") if k in a}
                for a in s.config["assignments"]
            ]
            return self.page("accounts", accounts, p)

    def ListAccountRoles(self, p):
        s = self.state
        with s.lock:
            s.live_access(p["accessToken"])
            assigned = self.assignment(p["accountId"])
            if assigned is None:
                raise ApiError("ForbiddenException", "No access")
            roles = [{"roleName": r, "accountId": assigned["accountId"]} for r in assigned["roles"]]
            return self.page("roles", roles, p)

    def Logout(self, p):
        s = self.state
        with s.lock:
            access = s.live_access(p["accessToken"])
            access["revoked"] = True
            if access["refresh"] in s.refresh_tokens:
                s.refresh_tokens[access["refresh"]]["valid"] = False
        return None

    # -- browser pages ----------------------------------------------------------------------

    def authorize(self, query):
        """GET /authorize: (status, headers, html)."""
        s = self.state
        q = {k: v[0] for k, v in query.items()}
        with s.lock:
            s.authorize += 1
            client = s.clients.get(q.get("client_id", ""))
            if client is None:
                return page(400, "Unknown client", f"No client has the id {q.get('client_id')!r}.")
            if "authorization_code" not in (client["grantTypes"] or []):
                return page(400, "Unauthorized client", "The client did not register authorization_code.")
            redirect = q.get("redirect_uri", "")
            if not any(loopback_match(r, redirect) for r in client["redirectUris"] or []):
                return page(400, "Invalid redirect URI", f"{redirect!r} is not registered for this client.")

            def back(**params):
                if "state" in q:
                    params["state"] = q["state"]
                separator = "&" if urllib.parse.urlsplit(redirect).query else "?"
                return 302, {"Location": redirect + separator + urllib.parse.urlencode(params)}, b""

            if q.get("response_type") != "code":
                return back(error="unsupported_response_type")
            if q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
                return back(error="invalid_request", error_description="PKCE with S256 is required")
            requested = [x for x in re.split(r"[\s,]+", q.get("scopes", q.get("scope", ""))) if x]
            if set(requested) - set(client["scopes"] or []):
                return back(error="invalid_scope")
            if s.config["deny_authorization"]:
                return back(error="access_denied")
            code = token("", 32)
            s.codes[code] = {
                "clientId": client["clientId"],
                "redirectUri": redirect,
                "challenge": q["code_challenge"],
                "expires": time.time() + AUTH_CODE_TTL,
                "used": False,
            }
            return back(code=code)

    def device(self, query):
        """GET /device: the verification page, which approves the code it is given."""
        s = self.state
        user_code = query.get("user_code", [None])[0]
        if user_code is None:
            return page(200, "Device authorization", "Open this page with ?user_code=CODE to approve it.")
        with s.lock:
            if user_code not in s.user_codes:
                return page(404, "Unknown code", f"No device authorization has the code {user_code!r}.")
            status = s.decide_device(user_code)
        return page(200, "Device authorization", f"Request {html.escape(user_code)}: {status}.")


def page(status, title, text):
    body = (
        f"<!doctype html><html><head><title>{html.escape(title)}</title></head>"
        f"<body><h1>{html.escape(title)}</h1><p>{html.escape(text)}</p></body></html>"
    ).encode()
    return status, {"Content-Type": "text/html; charset=utf-8"}, body


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "sso-standin"

    def log_message(self, fmt, *args):
        log(f"{self.address_string()} {fmt % args}")

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def send(self, status, headers, body):
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def send_json(self, status, payload, headers=None):
        body = b"" if payload is None else json.dumps(payload).encode()
        self.send(status, {"Content-Type": "application/json", **(headers or {})}, body)

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_PUT(self):
        self.dispatch("PUT")

    def do_DELETE(self):
        self.dispatch("DELETE")

    def dispatch(self, method):
        server = self.server
        state = server.state
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        headers = {k.lower(): v for k, v in self.headers.items()}
        entry = {"method": method, "path": url.path, "query": query, "headers": headers}
        try:
            body = self.read_body()
            try:
                entry["body"] = json.loads(body) if body.strip() else None
            except ValueError:
                entry["body"] = body.decode(errors="replace")
            if url.path.startswith("/__control/"):
                return self.control(method, url.path, body)
            if method == "GET" and url.path == "/authorize":
                status, headers, page_body = server.standin.authorize(query)
                entry["status"] = status
                return self.send(status, headers, page_body)
            if method == "GET" and url.path == "/device":
                status, headers, page_body = server.standin.device(query)
                entry["status"] = status
                return self.send(status, headers, page_body)
            for service in server.services:
                op_name, literal = service.route(method, url.path, query)
                if op_name is not None:
                    entry["operation"] = op_name
                    return self.api(service, op_name, literal, query, body, entry)
            entry["status"] = 404
            return self.send_json(404, {"message": f"no route for {method} {url.path}"})
        except Exception:
            text = traceback.format_exc()
            print(text, file=sys.stderr, flush=True)
            with state.lock:
                state.internal_errors.append(text)
            entry["status"] = 500
            self.send_json(500, {"message": "stand-in error: " + text.splitlines()[-1]})
        finally:
            if not url.path.startswith("/__control/"):
                with state.lock:
                    state.requests.append(entry)

    def api(self, service, op_name, literal, query, body, entry):
        state = self.server.state
        with state.lock:
            state.operations[op_name] += 1
        try:
            handler = getattr(self.server.standin, op_name, None)
            if handler is None:
                raise ApiError("InvalidRequestException", f"The stand-in does not implement {op_name}")
            try:
                params = service.parse_input(op_name, literal, self.headers, query, body)
            except Invalid as e:
                raise ApiError("InvalidRequestException", str(e)) from None
            payload = handler(params)
        except ApiError as e:
            status = service.error_status(e.shape)
            entry.update(status=status, error=e.shape, description=e.description)
            with state.lock:
                state.errors[e.shape] += 1
            body = service.error_body(e.shape, e.description)
            return self.send_json(status, body, {"x-amzn-ErrorType": e.shape})
        service.check_output(op_name, payload)
        entry["status"] = 200
        self.send_json(200, payload)

    def control(self, method, path, body):
        state = self.server.state
        if method == "GET" and path == "/__control/stats":
            with state.lock:
                return self.send_json(200, state.stats())
        if path == "/__control/config" and method in ("GET", "POST"):
            try:
                changes = json.loads(body) if method == "POST" else {}
                with state.lock:
                    config = state.configure(changes)
                    return self.send_json(200, config)
            except (ValueError, Invalid) as e:
                return self.send_json(400, {"message": str(e)})
        self.send_json(404, {"message": f"no control {method} {path}"})


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    global VERBOSE
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: a free one)")
    parser.add_argument("--moto", help="the moto endpoint that gives role credentials")
    parser.add_argument("--moto-keys", default="AKIAIOSFODNN7EXAMPLE:sso-standin", help="ID:SECRET for moto")
    parser.add_argument("--verbose", action="store_true", help="log each request to stderr")
    args = parser.parse_args()
    VERBOSE = args.verbose

    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        os.environ.pop(name, None)
    sts = None
    if args.moto:
        key_id, _, secret = args.moto_keys.partition(":")
        sts = botocore.session.get_session().create_client(
            "sts",
            region_name="us-east-1",
            endpoint_url=args.moto,
            aws_access_key_id=key_id,
            aws_secret_access_key=secret,
        )

    server = Server(("127.0.0.1", args.port), Handler)
    base_url = f"http://127.0.0.1:{server.server_address[1]}"
    server.state = State(base_url)
    server.standin = StandIn(server.state, sts)
    server.services = [ServiceModel("sso-oidc", "oidc"), ServiceModel("sso", "portal")]

    def stop(_signum, _frame):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise SystemExit(0)

    # Before the first line: whoever reads it may send SIGTERM at once.
    signal.signal(signal.SIGTERM, stop)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"listening on {base_url}", flush=True)
    try:
        while sys.stdin.buffer.read(65536):
            pass
    except (SystemExit, KeyboardInterrupt):
        pass
    finally:
        server.shutdown()
        server.server_close()


if __name__ == "__main__":
    main()
