// wsflow's Node.js runtime: the Lambda Runtime API loop of a nodejs function.
//
// Written by wsflow into its data directory and run as `node bootstrap.mjs`
// with the function's code directory as working directory. It behaves as
// AWS's Node.js runtime does: the handler named by _HANDLER (`file.export`,
// `dir/file.export`) is loaded once from file.js, file.mjs or file.cjs
// (CommonJS or ES module), init errors go to /runtime/init/error
// (Runtime.ImportModuleError, Runtime.HandlerNotFound, ...), async handlers
// and callback handlers `(event, context, callback)` both work, and an error
// is posted as {errorType, errorMessage, trace}. NODE_PATH applies to ES
// module imports too, as in Lambda's nodejs18.x and later (a resolve hook,
// `node-path-hooks.mjs`, registered with module.register, Node 18.19/20.6
// or later), so the AWS SDK v3 in the cache resolves from an .mjs handler as
// /var/runtime/node_modules does. Node's built-in modules only.

import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import module from "node:module";
import { pathToFileURL } from "node:url";

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

function errorPayload(err) {
  if (err instanceof Error) {
    return {
      errorType: err.name || "Error",
      errorMessage: err.message,
      trace: String(err.stack || "").split("\n"),
    };
  }
  return { errorType: typeof err, errorMessage: String(err), trace: [] };
}

class Fault extends Error {
  constructor(name, message) {
    super(message);
    this.name = name;
  }
}

async function loadHandler(spec) {
  const dot = spec.lastIndexOf(".");
  if (dot <= 0 || dot === spec.length - 1) {
    throw new Fault("Runtime.MalformedHandlerName", `Bad handler ${spec}`);
  }
  const modulePath = spec.slice(0, dot);
  const exportPath = spec.slice(dot + 1);
  const root = process.cwd();
  const base = path.resolve(root, modulePath);
  const file = [".js", ".mjs", ".cjs"].map((e) => base + e).find((f) => fs.existsSync(f));
  if (!file) {
    throw new Fault(
      "Runtime.ImportModuleError",
      `Error: Cannot find module '${path.basename(modulePath)}'\nRequire stack:\n- ${process.argv[1]}`,
    );
  }
  let mod;
  try {
    mod = await import(pathToFileURL(file).href);
  } catch (e) {
    if (e && (e.code === "MODULE_NOT_FOUND" || e.code === "ERR_MODULE_NOT_FOUND")) {
      throw new Fault("Runtime.ImportModuleError", `${e.name}: ${e.message}`);
    }
    if (e instanceof SyntaxError) {
      throw new Fault("Runtime.UserCodeSyntaxError", `${e.name}: ${e.message}`);
    }
    throw e;
  }
  let handler = exportPath.split(".").reduce((o, k) => (o == null ? undefined : o[k]), mod);
  if (handler === undefined && mod.default) {
    handler = exportPath.split(".").reduce((o, k) => (o == null ? undefined : o[k]), mod.default);
  }
  if (handler === undefined) {
    throw new Fault("Runtime.HandlerNotFound", `${spec} is undefined or not exported`);
  }
  if (typeof handler !== "function") {
    throw new Fault("Runtime.HandlerNotFound", `${spec} is not a function`);
  }
  return handler;
}

function makeContext(res, requestId) {
  const deadline = Number(res.headers["lambda-runtime-deadline-ms"] || 0);
  const json = (h) => {
    try {
      return h ? JSON.parse(h) : undefined;
    } catch {
      return undefined;
    }
  };
  const env = process.env;
  return {
    callbackWaitsForEmptyEventLoop: true,
    awsRequestId: requestId,
    functionName: env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION,
    memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    invokedFunctionArn: res.headers["lambda-runtime-invoked-function-arn"],
    logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME,
    clientContext: json(res.headers["lambda-runtime-client-context"]),
    identity: json(res.headers["lambda-runtime-cognito-identity"]),
    getRemainingTimeInMillis: () => Math.max(deadline - Date.now(), 0),
  };
}

// Runs the handler: its promise when it returns one, else its callback
// (or the context's legacy done/succeed/fail).
function run(handler, event, context) {
  return new Promise((resolve, reject) => {
    let settled = false;
    const callback = (err, result) => {
      if (settled) return;
      settled = true;
      if (err !== undefined && err !== null) reject(err);
      else resolve(result);
    };
    context.done = callback;
    context.succeed = (r) => callback(null, r);
    context.fail = (e) => callback(e ?? "handled");
    try {
      const out = handler(event, context, callback);
      if (out && typeof out.then === "function") {
        out.then((r) => callback(null, r), (e) => callback(e ?? "Error"));
      } else if (handler.length < 3 && !settled) {
        // A sync handler without a callback: its return value is the result.
        callback(null, out);
      }
    } catch (e) {
      callback(e);
    }
  });
}

async function main() {
  const dirs = (process.env.NODE_PATH || "").split(path.delimiter).filter(Boolean);
  if (dirs.length && typeof module.register === "function") {
    module.register("./node-path-hooks.mjs", import.meta.url, { data: { dirs } });
  }
  let handler;
  try {
    handler = await loadHandler(process.env._HANDLER || "");
  } catch (e) {
    const payload = errorPayload(e);
    console.error(`${payload.errorType}: ${payload.errorMessage}`);
    await request("POST", "/init/error", JSON.stringify(payload), {
      "Lambda-Runtime-Function-Error-Type": payload.errorType,
    });
    process.exit(1);
  }
  for (;;) {
    const { res, body } = await request("GET", "/invocation/next");
    if (res.statusCode !== 200) {
      await new Promise((r) => setTimeout(r, 50));
      continue;
    }
    const requestId = res.headers["lambda-runtime-aws-request-id"];
    if (res.headers["lambda-runtime-trace-id"]) {
      process.env._X_AMZN_TRACE_ID = res.headers["lambda-runtime-trace-id"];
    }
    const context = makeContext(res, requestId);
    try {
      const event = body.length ? JSON.parse(body.toString("utf8")) : undefined;
      const result = await run(handler, event, context);
      const out = JSON.stringify(result === undefined ? null : result);
      await request("POST", `/invocation/${requestId}/response`, out, {
        "Content-Type": "application/json",
      });
    } catch (e) {
      const payload = errorPayload(e);
      console.error(`${requestId}\tERROR\tInvoke Error \t${JSON.stringify(payload)}`);
      await request("POST", `/invocation/${requestId}/error`, JSON.stringify(payload), {
        "Lambda-Runtime-Function-Error-Type": payload.errorType,
      });
    }
  }
}

main();
