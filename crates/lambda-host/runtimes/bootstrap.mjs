// wsflow's Node.js runtime: the Lambda Runtime API loop of a nodejs function.
//
// Written by wsflow into its data directory and run as `node bootstrap.mjs`
// with the function's code directory as working directory. It behaves as
// AWS's Node.js runtime interface client (aws-lambda-nodejs-runtime-interface-
// client: src/UserFunction.js, Runtime.js, CallbackContext.js, Errors.js) does:
//
// * the handler named by _HANDLER (`dir/file.export`, `file.nested.export`:
//   the file is the part of the last path segment before its first dot) is
//   loaded once: an extensionless file, `.js` (CommonJS unless the nearest
//   package.json says "type": "module"), `.mjs`, `.cjs`, then
//   `require.resolve` from the code directory; init errors go to
//   /runtime/init/error (Runtime.ImportModuleError for a CommonJS module not
//   found, Runtime.UserCodeSyntaxError, Runtime.HandlerNotFound,
//   Runtime.MalformedHandlerName);
// * NODE_PATH applies to ES module imports too, as in Lambda's nodejs18.x and
//   later (a resolve hook, `node-path-hooks.mjs`, registered with
//   module.register, Node 18.19/20.6 or later), so the AWS SDK v3 in the
//   cache resolves from an .mjs handler as /var/runtime/node_modules does;
// * a handler's promise settles the invocation as soon as it settles; a
//   callback `(err, result)` with a result completes it when the event loop
//   is empty (unless context.callbackWaitsForEmptyEventLoop is false);
//   context.done/succeed/fail complete it at once; only the first of these
//   counts (a handler that calls back and also returns a promise gets the
//   first one's outcome);
// * an invocation not completed when the event loop empties (a callback
//   handler that never calls back, a non-async handler that returns a value
//   without calling back: that value is ignored) completes with a `null`
//   result, except for an `async` handler whose promise never settles:
//   Runtime.NodeJsExit;
// * errors are posted as {errorType, errorMessage, trace}; an uncaught
//   exception or unhandled rejection fails the invocation and ends the
//   process (exit 129 / 128), as on AWS.
//
// Node's built-in modules only.

import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import module, { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { types } from "node:util";

const [HOST, PORT] = (() => {
  const api = process.env.AWS_LAMBDA_RUNTIME_API;
  const i = api.lastIndexOf(":");
  return [api.slice(0, i), Number(api.slice(i + 1))];
})();
const BASE = "/2018-06-01/runtime";
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function request(method, p, body, headers = {}) {
  if (body !== undefined) {
    body = Buffer.from(body);
    headers = { ...headers, "Content-Length": body.length };
  }
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: HOST, port: PORT, method, path: BASE + p, agent, headers },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => resolve({ res, body: Buffer.concat(chunks) }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

// Errors.toRapidResponse.
function errorPayload(err) {
  try {
    if (types.isNativeError(err) || isErrorLike(err)) {
      return {
        errorType: err.name,
        errorMessage: err.message,
        trace: String(err.stack || "").split("\n"),
      };
    }
    return { errorType: typeof err, errorMessage: String(err), trace: [] };
  } catch {
    return {
      errorType: "handled",
      errorMessage:
        "callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack",
    };
  }
}

function isErrorLike(o) {
  return (
    o &&
    typeof o.name === "string" &&
    typeof o.message === "string" &&
    typeof o.stack === "string" &&
    o.name &&
    o.message &&
    o.stack
  );
}

function runtimeError(name, message) {
  const e = new Error(message);
  e.name = `Runtime.${name}`;
  return e;
}

// --- Loading the handler (UserFunction.js) ---------------------------------

function hasTypeModule(folder) {
  if (folder.endsWith("/node_modules")) return false;
  const pj = path.join(folder, "package.json");
  if (fs.existsSync(pj)) {
    try {
      return JSON.parse(fs.readFileSync(pj, "utf8")).type === "module";
    } catch {
      return false;
    }
  }
  const parent = path.resolve(folder, "..");
  return parent === folder ? false : hasTypeModule(parent);
}

async function loadModule(appRoot, moduleRoot, name) {
  const require = createRequire(import.meta.url);
  const file = path.resolve(appRoot, moduleRoot, name);
  const tryRequire = (f) => (fs.existsSync(f) ? require(f) : undefined);
  const tryImport = async (f) => (fs.existsSync(f) ? await import(pathToFileURL(f).href) : undefined);
  const extensionless = tryRequire(file);
  if (extensionless) return extensionless;
  const isModule = hasTypeModule(path.dirname(file));
  if (!isModule) {
    const loaded = tryRequire(file + ".js");
    if (loaded) return loaded;
  }
  const loaded =
    (isModule && (await tryImport(file + ".js"))) ||
    (await tryImport(file + ".mjs")) ||
    tryRequire(file + ".cjs");
  if (loaded) return loaded;
  return require(require.resolve(name, { paths: [appRoot, moduleRoot] }));
}

async function loadHandler(appRoot, fullHandler) {
  if (fullHandler.includes("..")) {
    throw runtimeError(
      "MalformedHandlerName",
      `'${fullHandler}' is not a valid handler name. Use absolute paths when specifying root directories in handler names.`,
    );
  }
  const handlerString = path.basename(fullHandler);
  const moduleRoot = fullHandler.substring(0, fullHandler.indexOf(handlerString));
  const match = handlerString.match(/^([^.]*)\.(.*)$/);
  if (!match) throw runtimeError("MalformedHandlerName", "Bad handler");
  const [, name, handlerPath] = match;
  let app;
  try {
    app = await loadModule(appRoot, moduleRoot, name);
  } catch (e) {
    if (e instanceof SyntaxError) {
      const err = runtimeError("UserCodeSyntaxError", String(e));
      err.stack = e.stack;
      throw err;
    }
    if (e && e.code === "MODULE_NOT_FOUND") throw runtimeError("ImportModuleError", String(e));
    throw e;
  }
  const handler = handlerPath.split(".").reduce((o, k) => o && o[k], app);
  if (!handler) throw runtimeError("HandlerNotFound", `${fullHandler} is undefined or not exported`);
  if (typeof handler !== "function") {
    throw runtimeError("HandlerNotFound", `${fullHandler} is not a function`);
  }
  return handler;
}

// --- One invocation (Runtime.js, CallbackContext.js) -----------------------

// The one beforeExit action (BeforeExitListener.js).
let beforeExit = () => {};
process.on("beforeExit", () => beforeExit());

// Called on an uncaught exception or unhandled rejection (init, then per
// invocation).
let onFatal = (error, code) => postInitError(error).finally(() => process.exit(code));

process.on("uncaughtException", (error) => {
  console.error("Uncaught Exception", error);
  onFatal(error, 129);
});
process.on("unhandledRejection", (reason) => {
  const error = runtimeError("UnhandledPromiseRejection", String(reason));
  console.error("Unhandled Promise Rejection", error);
  onFatal(error, 128);
});

function postInitError(error) {
  const payload = errorPayload(error);
  console.error(`${payload.errorType}: ${payload.errorMessage}`);
  return request("POST", "/init/error", JSON.stringify(payload), {
    "Content-Type": "application/json",
    "Lambda-Runtime-Function-Error-Type": payload.errorType,
  });
}

function postError(requestId, error) {
  const payload = errorPayload(error);
  console.error(`${requestId}\tERROR\tInvoke Error \t${JSON.stringify(payload)}`);
  return request("POST", `/invocation/${requestId}/error`, JSON.stringify(payload), {
    "Content-Type": "application/json",
    "Lambda-Runtime-Function-Error-Type": payload.errorType,
  });
}

function postResponse(requestId, result) {
  let body;
  try {
    body = JSON.stringify(result === undefined ? null : result);
  } catch {
    return postError(requestId, new Error("Unable to stringify response body"));
  }
  return request("POST", `/invocation/${requestId}/response`, body, {
    "Content-Type": "application/json",
  });
}

// The callback and the context's done/succeed/fail for one invocation; only
// the first call of any of them counts.
function callbackContext(requestId, next) {
  let completed = false;
  const finish = (post) => {
    if (completed) {
      console.error(
        "Invocation has already been reported as done. Cannot call complete more than once per invocation.",
      );
      return;
    }
    completed = true;
    post().then(next, fatal);
  };
  let waitForEmptyEventLoop = true;
  const callback = (err, result) => {
    beforeExit = () => {};
    if (err !== undefined && err !== null) finish(() => postError(requestId, err));
    else if (!waitForEmptyEventLoop) finish(() => postResponse(requestId, result));
    else beforeExit = () => setImmediate(() => finish(() => postResponse(requestId, result)));
  };
  const done = (err, result) => {
    beforeExit = () => {};
    if (err !== undefined && err !== null) finish(() => postError(requestId, err));
    else finish(() => postResponse(requestId, result));
  };
  let first = true;
  const once = (f) =>
    function (...args) {
      if (first) {
        f(...args);
        first = false;
      }
    };
  const context = {
    get callbackWaitsForEmptyEventLoop() {
      return waitForEmptyEventLoop;
    },
    set callbackWaitsForEmptyEventLoop(value) {
      waitForEmptyEventLoop = value;
    },
    succeed: once((result) => done(null, result)),
    fail: once((err) => done(err === undefined || err === null ? "handled" : err, null)),
    done: once(done),
  };
  const markCompleted = () => {
    completed = true;
  };
  return [once(callback), context, markCompleted];
}

function fatal(error) {
  console.error("wsflow bootstrap: the Runtime API failed:", error);
  process.exit(1);
}

function json(header) {
  try {
    return header ? JSON.parse(header) : undefined;
  } catch {
    return undefined;
  }
}

async function handleOnce(handler, isAsync) {
  const { res, body } = await request("GET", "/invocation/next");
  if (res.statusCode !== 200) {
    setTimeout(() => scheduleIteration(handler, isAsync), 50);
    return;
  }
  const h = res.headers;
  const requestId = h["lambda-runtime-aws-request-id"];
  if (h["lambda-runtime-trace-id"]) process.env._X_AMZN_TRACE_ID = h["lambda-runtime-trace-id"];
  else delete process.env._X_AMZN_TRACE_ID;
  const next = () => scheduleIteration(handler, isAsync);
  const [callback, context, markCompleted] = callbackContext(requestId, next);
  onFatal = (error, code) => postError(requestId, error).finally(() => process.exit(code));
  beforeExit = () => {
    markCompleted();
    if (isAsync) {
      const error = runtimeError(
        "NodeJsExit",
        "The Lambda runtime client detected an unexpected Node.js exit code. This is most commonly caused by a Promise that was never settled. For more information, see https://nodejs.org/docs/latest/api/process.html#exit-codes",
      );
      postError(requestId, error).then(next, fatal);
    } else {
      postResponse(requestId, null).then(next, fatal);
    }
  };
  const deadline = Number(h["lambda-runtime-deadline-ms"] || 0);
  const env = process.env;
  Object.assign(context, {
    awsRequestId: requestId,
    functionName: env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION,
    memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    invokedFunctionArn: h["lambda-runtime-invoked-function-arn"],
    logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME,
    clientContext: json(h["lambda-runtime-client-context"]),
    identity: json(h["lambda-runtime-cognito-identity"]),
    getRemainingTimeInMillis: () => Math.max(deadline - Date.now(), 0),
  });
  try {
    const result = handler(JSON.parse(body.toString("utf8")), context, callback);
    if (result && typeof result.then === "function") {
      result.then(context.succeed, context.fail).catch(context.fail);
    }
  } catch (err) {
    callback(err);
  }
}

function scheduleIteration(handler, isAsync) {
  setImmediate(() => handleOnce(handler, isAsync).catch(fatal));
}

async function main() {
  const dirs = (process.env.NODE_PATH || "").split(path.delimiter).filter(Boolean);
  if (dirs.length && typeof module.register === "function") {
    module.register("./node-path-hooks.mjs", import.meta.url, { data: { dirs } });
  }
  let handler;
  try {
    handler = await loadHandler(process.cwd(), process.env._HANDLER || "");
  } catch (e) {
    await postInitError(e);
    process.exit(1);
  }
  const isAsync = handler.constructor && handler.constructor.name === "AsyncFunction";
  scheduleIteration(handler, isAsync);
}

main();
