// wsflow's Node.js runtime: module resolution hooks registered by
// bootstrap.mjs (module.register) so that ES module imports search the
// NODE_PATH directories too, as Lambda's nodejs18.x and later runtimes do
// (Node itself applies NODE_PATH to require() only). This is how
// `import { DynamoDBClient } from "@aws-sdk/client-dynamodb"` in an .mjs
// handler finds the AWS SDK v3 that wsflow installed in its cache, as it
// finds /var/runtime/node_modules on AWS. The function's own node_modules
// come first: a bare specifier is looked up in NODE_PATH only when Node's
// own resolution did not find it.

import path from "node:path";
import { pathToFileURL } from "node:url";

let dirs = [];

export async function initialize(data) {
  dirs = (data && Array.isArray(data.dirs) && data.dirs) || [];
}

// A package name, not a relative, absolute or URL specifier.
function isBare(specifier) {
  return !/^(\.{0,2}\/|[a-zA-Z][a-zA-Z0-9+.-]*:)/.test(specifier);
}

export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (error) {
    if (!error || error.code !== "ERR_MODULE_NOT_FOUND" || !isBare(specifier)) throw error;
    for (const dir of dirs) {
      try {
        // Resolved as if imported from a file directly inside `dir`, so
        // Node's node_modules lookup finds `dir/<package>`.
        const parentURL = pathToFileURL(path.join(dir, "noop.js")).href;
        return await next(specifier, { ...context, parentURL });
      } catch {
        // Not there: try the next directory.
      }
    }
    throw error;
  }
}
