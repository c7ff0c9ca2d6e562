"""wsflow's Python runtime: the Lambda Runtime API loop of a python3.x function.

Written by wsflow into its data directory and run as `python3 bootstrap.py`
with the function's code directory as working directory and on sys.path.
It behaves as AWS's Python runtime (awslambdaric: bootstrap.py,
lambda_runtime_marshaller.py) does: the handler named by _HANDLER is imported
once as awslambdaric imports it (`dir/module.function` and
`pkg.module.function` are the modules `dir.module` and `pkg.module`), init
errors go to /runtime/init/error (Runtime.ImportModuleError,
Runtime.HandlerNotFound, Runtime.UserCodeSyntaxError, ...), each event is
passed with a context object, a result JSON cannot represent is
Runtime.MarshalError ("Unable to marshal response: ..."), bytes are returned
as they are, and an exception is posted as {errorMessage, errorType,
requestId, stackTrace}.
Standard library only.
"""

import decimal
import http.client
import importlib
import json
import math
import os
import sys
import time
import traceback

API = os.environ["AWS_LAMBDA_RUNTIME_API"]
HOST, _, PORT = API.rpartition(":")
BASE = "/2018-06-01/runtime"


class Conn:
    """One keep-alive HTTP/1.1 connection to the Runtime API."""

    def __init__(self):
        self.c = http.client.HTTPConnection(HOST, int(PORT), timeout=None)

    def request(self, method, path, body=None, headers=None):
        for attempt in range(2):
            try:
                self.c.request(method, BASE + path, body=body, headers=headers or {})
                r = self.c.getresponse()
                return r, r.read()
            except (http.client.HTTPException, ConnectionError):
                self.c.close()
                self.c = http.client.HTTPConnection(HOST, int(PORT), timeout=None)
                if attempt:
                    raise


def error_payload(exc, request_id=""):
    tb = traceback.extract_tb(exc.__traceback__)
    # Drop this bootstrap's own frames, as AWS's runtime does.
    frames = [f for f in tb if os.path.abspath(f.filename) != os.path.abspath(__file__)]
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "requestId": request_id,
        "stackTrace": traceback.format_list(frames),
    }


class FaultError(Exception):
    def __init__(self, error_type, message, trace=None):
        super().__init__(message)
        self.error_type = error_type
        self.trace = trace or []

    def payload(self, request_id=""):
        return {
            "errorMessage": str(self),
            "errorType": self.error_type,
            "requestId": request_id,
            "stackTrace": self.trace,
        }


def load_handler(handler):
    """awslambdaric's _get_handler: `a/b/mod.fn` and `pkg.mod.fn` import the
    modules `a.b.mod` and `pkg.mod` (the code directory is first on sys.path)."""
    try:
        modname, fname = handler.rsplit(".", 1)
    except ValueError as e:
        raise FaultError("Runtime.MalformedHandlerName", "Bad handler '%s': %s" % (handler, e))
    try:
        if modname.split(".")[0] in sys.builtin_module_names:
            raise FaultError(
                "Runtime.BuiltInModuleConflict",
                "Cannot use built-in module %s as a handler module" % modname,
            )
        module = importlib.import_module(modname.replace("/", "."))
    except ImportError as e:
        raise FaultError(
            "Runtime.ImportModuleError", "Unable to import module '%s': %s" % (modname, e)
        )
    except SyntaxError as e:
        trace = ['  File "%s" Line %s\n    %s' % (e.filename, e.lineno, e.text)]
        raise FaultError(
            "Runtime.UserCodeSyntaxError",
            "Syntax error in module '%s': %s" % (modname, e),
            trace,
        )
    try:
        return getattr(module, fname)
    except AttributeError:
        raise FaultError(
            "Runtime.HandlerNotFound", "Handler '%s' missing on module '%s'" % (fname, modname)
        )


# awslambdaric's marshaller: no ASCII escapes on python3.12 and later, NaN
# allowed, Decimal as a JSON number (simplejson writes its exact digits; the
# standard library here writes an int, or the nearest float).
ENSURE_ASCII = os.environ.get("AWS_EXECUTION_ENV") not in {
    "AWS_Lambda_python3.12",
    "AWS_Lambda_python3.13",
    "AWS_Lambda_python3.14",
    "AWS_Lambda_python3.15",
}


def _default(obj):
    if isinstance(obj, decimal.Decimal):
        if obj.is_nan():
            return math.nan
        return int(obj) if obj == obj.to_integral_value() else float(obj)
    raise TypeError("Object of type %s is not JSON serializable" % obj.__class__.__name__)


def marshal_response(response):
    if isinstance(response, bytes):
        return response, "application/unknown"
    try:
        text = json.dumps(response, default=_default, ensure_ascii=ENSURE_ASCII)
        return text.encode("utf-8"), "application/json"
    except Exception as e:
        raise FaultError("Runtime.MarshalError", "Unable to marshal response: %s" % e)


def unmarshal_request(body, content_type):
    if content_type != "application/json":
        return body
    try:
        return json.loads(body)
    except Exception as e:
        raise FaultError("Runtime.UnmarshalError", "Unable to unmarshal input: %s" % e)


class CognitoIdentity:
    def __init__(self, raw):
        raw = raw or {}
        self.cognito_identity_id = raw.get("cognitoIdentityId")
        self.cognito_identity_pool_id = raw.get("cognitoIdentityPoolId")


class ClientContext:
    def __init__(self, raw):
        raw = raw or {}
        self.client = raw.get("client")
        self.custom = raw.get("custom")
        self.env = raw.get("env")


class LambdaContext:
    """The `context` argument, with the attributes AWS's runtime gives it."""

    def __init__(self, request_id, deadline_ms, arn, client_context, identity):
        self.aws_request_id = request_id
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.invoked_function_arn = arn
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.client_context = ClientContext(client_context) if client_context else None
        self.identity = CognitoIdentity(identity)
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        return max(int(self._deadline_ms - time.time() * 1000), 0)


def parse_json_header(value):
    if not value:
        return None
    try:
        return json.loads(value)
    except ValueError:
        return None


def main():
    # `python3 bootstrap.py` put this script's directory first on sys.path:
    # the code directory (PYTHONPATH) comes first on Lambda.
    here = os.path.dirname(os.path.abspath(__file__))
    if sys.path and os.path.abspath(sys.path[0] or os.getcwd()) == here:
        del sys.path[0]
    conn = Conn()
    try:
        handler = load_handler(os.environ.get("_HANDLER", ""))
    except FaultError as e:
        payload = e.payload()
        print("[ERROR] %s: %s" % (e.error_type, e), file=sys.stderr, flush=True)
        conn.request("POST", "/init/error", json.dumps(payload),
                     {"Lambda-Runtime-Function-Error-Type": e.error_type})
        sys.exit(1)
    except Exception as e:  # an exception raised while the module ran
        payload = error_payload(e)
        print("[ERROR] %s: %s" % (payload["errorType"], e), file=sys.stderr, flush=True)
        conn.request("POST", "/init/error", json.dumps(payload),
                     {"Lambda-Runtime-Function-Error-Type": "Runtime.Unknown"})
        sys.exit(1)

    while True:
        r, body = conn.request("GET", "/invocation/next")
        if r.status != 200:
            time.sleep(0.05)
            continue
        request_id = r.getheader("Lambda-Runtime-Aws-Request-Id", "")
        trace_id = r.getheader("Lambda-Runtime-Trace-Id")
        if trace_id:
            os.environ["_X_AMZN_TRACE_ID"] = trace_id
        else:
            os.environ.pop("_X_AMZN_TRACE_ID", None)
        context = LambdaContext(
            request_id,
            int(r.getheader("Lambda-Runtime-Deadline-Ms", "0") or 0),
            r.getheader("Lambda-Runtime-Invoked-Function-Arn"),
            parse_json_header(r.getheader("Lambda-Runtime-Client-Context")),
            parse_json_header(r.getheader("Lambda-Runtime-Cognito-Identity")),
        )
        try:
            content_type = r.getheader("Content-Type", "application/json")
            event = unmarshal_request(body, content_type) if body else None
            result = handler(event, context)
            out, content_type = marshal_response(result)
        except FaultError as e:
            payload = e.payload(request_id)
            print("[ERROR] %s: %s" % (e.error_type, e), file=sys.stderr, flush=True)
            conn.request("POST", "/invocation/%s/error" % request_id, json.dumps(payload),
                         {"Lambda-Runtime-Function-Error-Type": e.error_type})
            continue
        except Exception as e:
            payload = error_payload(e, request_id)
            print(
                "[ERROR] %s: %s\n%s" % (payload["errorType"], e, "".join(payload["stackTrace"])),
                file=sys.stderr,
                flush=True,
            )
            conn.request("POST", "/invocation/%s/error" % request_id, json.dumps(payload),
                         {"Lambda-Runtime-Function-Error-Type": "Unhandled"})
            continue
        conn.request("POST", "/invocation/%s/response" % request_id, out,
                     {"Content-Type": content_type})


if __name__ == "__main__":
    main()
