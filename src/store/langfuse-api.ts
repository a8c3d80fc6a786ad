import { PromptsError } from "../errors.js";

/** Where and as whom to read a Langfuse project. */
export interface LangfuseApiOptions {
  /** Base URL, e.g. https://cloud.langfuse.com. */
  url: string;
  publicKey: string;
  secretKey: string;
}

interface PromptMeta {
  name: string;
  versions: number[];
}

/**
 * Every version of every prompt of a Langfuse project through its public API: the paged list
 * `GET /api/public/v2/prompts`, then `GET /api/public/v2/prompts/{name}?version=N` for each
 * version, a few at a time. Basic auth with the project's public and secret keys.
 */
export async function fetchLangfuseVersions(options: LangfuseApiOptions): Promise<unknown[]> {
  const base = options.url.replace(/\/+$/, "");
  const auth = `Basic ${Buffer.from(`${options.publicKey}:${options.secretKey}`).toString("base64")}`;
  const get = async (path: string): Promise<unknown> => {
    let response: Response;
    try {
      response = await fetch(`${base}${path}`, {
        headers: { authorization: auth, accept: "application/json" },
      });
    } catch (error) {
      throw new PromptsError(
        "E_IO",
        `cannot reach Langfuse at ${base}: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
    if (response.status === 401 || response.status === 403) {
      throw new PromptsError(
        "E_INVALID_INPUT",
        `Langfuse refused the keys (HTTP ${response.status}); check --public-key/--secret-key or LANGFUSE_PUBLIC_KEY/LANGFUSE_SECRET_KEY`,
      );
    }
    if (!response.ok) {
      throw new PromptsError("E_IO", `Langfuse answered HTTP ${response.status} to GET ${path}`);
    }
    try {
      return await response.json();
    } catch {
      throw new PromptsError(
        "E_INVALID_INPUT",
        `Langfuse answered GET ${path} with something that is not JSON`,
      );
    }
  };

  const prompts: PromptMeta[] = [];
  for (let page = 1, pages = 1; page <= pages; page++) {
    const answer = (await get(`/api/public/v2/prompts?page=${page}&limit=100`)) as {
      data?: unknown;
      meta?: { totalPages?: unknown };
    };
    if (!Array.isArray(answer.data)) {
      throw new PromptsError(
        "E_INVALID_INPUT",
        `Langfuse: GET /api/public/v2/prompts: data is not a list`,
      );
    }
    for (const entry of answer.data as { name?: unknown; versions?: unknown }[]) {
      if (typeof entry.name !== "string" || !Array.isArray(entry.versions)) continue;
      prompts.push({
        name: entry.name,
        versions: entry.versions.filter((v): v is number => Number.isInteger(v)),
      });
    }
    pages = typeof answer.meta?.totalPages === "number" ? answer.meta.totalPages : 1;
  }
  const paths = prompts.flatMap((prompt) =>
    prompt.versions.map(
      (version) => `/api/public/v2/prompts/${encodeURIComponent(prompt.name)}?version=${version}`,
    ),
  );
  const versions: unknown[] = new Array(paths.length);
  let next = 0;
  const worker = async () => {
    for (let index = next++; index < paths.length; index = next++) {
      versions[index] = await get(paths[index] as string);
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, paths.length) }, worker));
  return versions;
}
