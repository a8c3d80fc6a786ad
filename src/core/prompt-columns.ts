import type { PromptHeader } from "./types.js";

/**
 * Name, version, file and partials of one side's prompts, as columns sorted by name: what a
 * diff walks for every prompt of both sides. Ten thousand prompts are two arrays of strings,
 * merged with the other side's in one pass. Files are looked up by index: a diff needs them only
 * for the prompts that differ.
 */
export class PromptColumns {
  /**
   * Columns taken as given: `names` sorted ascending by code unit with no repeats, the other
   * columns in the same order. `partials` holds the partials of the prompts that include any,
   * by index. Use {@link PromptColumns.of}.
   */
  constructor(
    readonly names: readonly string[],
    readonly versions: readonly string[],
    /** The file of the prompt at an index. */
    readonly file: (index: number) => string,
    readonly partials: ReadonlyMap<number, readonly string[]>,
  ) {}

  /** The columns of prompts in any order. */
  static of(prompts: Iterable<PromptHeader>): PromptColumns {
    const sorted = [...prompts].sort((a, b) => compareNames(a.name, b.name));
    const partials = new Map<number, readonly string[]>();
    sorted.forEach((prompt, index) => {
      if (prompt.partials.length > 0) partials.set(index, prompt.partials);
    });
    const files = sorted.map((prompt) => prompt.file);
    return new PromptColumns(
      sorted.map((prompt) => prompt.name),
      sorted.map((prompt) => prompt.version),
      (index) => files[index] as string,
      partials,
    );
  }

  /** How many prompts. */
  get size(): number {
    return this.names.length;
  }

  /** The index of a prompt by name, or -1. */
  indexOf(name: string): number {
    let low = 0;
    let high = this.names.length - 1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      const found = this.names[middle] as string;
      if (found === name) return middle;
      if (found < name) low = middle + 1;
      else high = middle - 1;
    }
    return -1;
  }

  has(name: string): boolean {
    return this.indexOf(name) !== -1;
  }

  /** The version of a prompt by name, or undefined when there is none of that name. */
  versionOf(name: string): string | undefined {
    const index = this.indexOf(name);
    return index === -1 ? undefined : this.versions[index];
  }
}

/** The order of {@link PromptColumns}: by code unit, as `Array.prototype.sort` sorts strings. */
function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
