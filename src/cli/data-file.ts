import { constants } from "node:fs";
import { open, stat } from "node:fs/promises";
import { isPlainObject } from "../core/json.js";
import { PromptsError } from "../errors.js";
import { firstInvalidUtf8 } from "../store/files.js";

/** The largest `--vars` file read: variables for one render, not a data set. */
const MAX_DATA_FILE_BYTES = 16 * 1024 * 1024;

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Reads a JSON (`.json`) or YAML file that must hold a mapping, as `--vars` takes. `shape` says
 * what the mapping should hold, for the error when it is something else.
 */
export async function readMappingFile(
  path: string,
  shape: string,
): Promise<Record<string, unknown>> {
  const text = await readDataText(path);
  const json = /\.json$/i.test(path);
  let value: unknown;
  try {
    // The YAML parser is loaded only for a YAML file.
    value = json ? JSON.parse(text) : (await import("yaml")).parse(text, { maxAliasCount: 100 });
  } catch (error) {
    const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
    throw new PromptsError(
      "E_INVALID_INPUT",
      `${path}: not valid ${json ? "JSON" : "YAML"}: ${reason}`,
    );
  }
  if (!isPlainObject(value))
    throw new PromptsError("E_INVALID_INPUT", `${path}: must hold ${shape}`);
  return value;
}

/**
 * The text of a data file, refusing at once what is not a regular file of sane size: a path
 * such as `/dev/zero` or a FIFO would otherwise be read for ever, or block.
 */
async function readDataText(path: string): Promise<string> {
  const fail = (why: string) => new PromptsError("E_INVALID_INPUT", `--vars ${path}: ${why}`);
  const cannotRead = (error: unknown) => {
    const reason = (error as NodeJS.ErrnoException).code ?? String(error);
    return new PromptsError("E_INVALID_INPUT", `cannot read the --vars file ${path}: ${reason}`);
  };
  const info = await stat(path).catch((error: unknown) => {
    throw cannotRead(error);
  });
  if (!info.isFile()) throw fail(`${fileKind(info)}, not a file; give a JSON or YAML file`);
  if (info.size > MAX_DATA_FILE_BYTES) throw fail(tooLarge());
  // Non-blocking: should the path have turned into a FIFO since, opening it does not wait.
  const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK).catch(
    (error: unknown) => {
      throw cannotRead(error);
    },
  );
  let bytes: Uint8Array;
  try {
    if (!(await handle.stat()).isFile()) throw fail("not a file; give a JSON or YAML file");
    // Read up to one byte past the limit, whatever the size said: a file may grow meanwhile,
    // and some (under /proc) say 0.
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.alloc(Math.min(64 * 1024, MAX_DATA_FILE_BYTES + 1 - total));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
      total += bytesRead;
      if (total > MAX_DATA_FILE_BYTES) throw fail(tooLarge());
    }
    bytes = Buffer.concat(chunks, total);
  } catch (error) {
    throw error instanceof PromptsError ? error : cannotRead(error);
  } finally {
    await handle.close();
  }
  try {
    return utf8.decode(bytes);
  } catch {
    const { offset, line, col } = firstInvalidUtf8(bytes);
    const byte = bytes[offset]?.toString(16).padStart(2, "0") ?? "??";
    throw fail(`not UTF-8 text (byte 0x${byte} at line ${line}, column ${col}); save it as UTF-8`);
  }
}

function tooLarge(): string {
  return `larger than ${MAX_DATA_FILE_BYTES / (1024 * 1024)} MiB; variables for a render are smaller`;
}

function fileKind(info: Awaited<ReturnType<typeof stat>>): string {
  if (info.isDirectory()) return "a directory";
  if (info.isFIFO()) return "a FIFO (named pipe)";
  if (info.isCharacterDevice() || info.isBlockDevice()) return "a device";
  if (info.isSocket()) return "a socket";
  return "not a regular file";
}
