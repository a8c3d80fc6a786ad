import { createServer, isLoopback } from "../../server/app.js";
import { PromptsError } from "../../errors.js";
import { type CommandContext, loadOptionsOf } from "../io.js";
import type { ServeCliOptions } from "../program.js";

/**
 * `prompts serve`: runs until SIGINT or SIGTERM, then stops accepting, finishes what is in
 * flight, flushes the usage log and returns 0.
 */
export async function serveCommand(
  context: CommandContext,
  options: ServeCliOptions,
): Promise<number> {
  // Over 80 lines on purpose: options checked in turn, then the server started and stopped on signals.
  const { root, cwd, dir } = loadOptionsOf(context);
  const port = options.port === undefined ? undefined : Number(options.port);
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65_535)) {
    throw new PromptsError(
      "E_USAGE",
      `--port must be a number from 0 to 65535, got "${options.port}"`,
    );
  }
  const maxBody = options.maxBody === undefined ? undefined : Number(options.maxBody);
  if (maxBody !== undefined && (!Number.isInteger(maxBody) || maxBody < 1)) {
    throw new PromptsError(
      "E_USAGE",
      `--max-body must be a number of bytes, got "${options.maxBody}"`,
    );
  }
  const maxConnections =
    options.maxConnections === undefined ? undefined : Number(options.maxConnections);
  if (maxConnections !== undefined && (!Number.isInteger(maxConnections) || maxConnections < 1)) {
    throw new PromptsError(
      "E_USAGE",
      `--max-connections must be a number of connections (1 or more), got "${options.maxConnections}"`,
    );
  }
  const token = options.token ?? context.io.env.PROMPTS_TOKEN;
  // An empty token must not quietly mean "no auth": it is a mistake, said before anything starts.
  if (token !== undefined && token.trim() === "") {
    throw new PromptsError(
      "E_USAGE",
      options.token === undefined
        ? "PROMPTS_TOKEN is set but empty: give it a token, or unset it to serve without auth"
        : "--token is empty: give a token, or leave --token out to serve without auth",
    );
  }
  const host = options.host ?? "127.0.0.1";
  const log = (line: string) => context.io.stderr.write(`${line}\n`);
  if (!isLoopback(host) && token === undefined) {
    log(
      `warning: serving on ${host} without a token: anyone who can reach it can read prompts and post usage (set --token or PROMPTS_TOKEN)`,
    );
  }
  const server = await createServer({
    cwd,
    ...(root === undefined ? {} : { root }),
    ...(dir === undefined ? {} : { dir }),
    ...(options.ref === undefined ? {} : { ref: options.ref }),
    host,
    ...(port === undefined ? {} : { port }),
    ...(token === undefined ? {} : { token }),
    ...(maxBody === undefined ? {} : { maxBodyBytes: maxBody }),
    ...(options.allowedHost === undefined ? {} : { allowedHosts: options.allowedHost }),
    ...(options.cors === undefined ? {} : { corsOrigins: options.cors }),
    ...(maxConnections === undefined ? {} : { maxConnections }),
    verbose: options.verbose === true,
    log,
  });
  // Handlers first: a supervisor that reads the URL as "ready" may signal at once.
  const stopped = new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      process.off("SIGINT", onInt);
      process.off("SIGTERM", onTerm);
      log(`${signal}: finishing requests in flight and flushing usage…`);
      void server.close().then(resolve);
    };
    const onInt = () => stop("SIGINT");
    const onTerm = () => stop("SIGTERM");
    process.on("SIGINT", onInt);
    process.on("SIGTERM", onTerm);
  });
  const what =
    options.ref === undefined
      ? "the working tree (hot reload)"
      : `${options.ref} (following it when it moves)`;
  context.io.stdout.write(
    `serving ${server.snapshot.prompts.size} prompts from ${what} at ${server.url}\n` +
      `the web page: ${server.url}/\n`,
  );
  await stopped;
  log("stopped");
  return 0;
}
