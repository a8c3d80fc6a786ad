import { relative, sep } from "node:path";
import { checkPromptName, isPromptFileName } from "../core/names.js";
import type { Issue, Prompt } from "../core/types.js";
import { type PromptSource, validatePrompts } from "../core/validate.js";
import { type LoadOptions, parsePromptNamed, parseWorkingTree } from "./load.js";

/** What an update changed. */
export interface TreeUpdate {
  /** Prompts added, removed, or whose version changed, sorted. */
  changed: string[];
}

/**
 * The prompts of a working tree, kept up to date edit by edit. An edit re-reads only the files
 * it touched and re-checks only the prompts it can affect — those files' prompts, the prompts
 * that include them, and (as context) the partials those include — so its cost does not grow
 * with the number of prompts.
 *
 * Parse results are kept only for prompts that include or are included: no edit of another
 * file re-checks the rest, and keeping what the parser found in 10,000 files (variable uses,
 * positions, declarations) would cost more memory than the prompts themselves. Should one of
 * them become a partial, its file is read again.
 */
export class LivePrompts {
  /** Valid prompts by name. */
  readonly prompts = new Map<string, Prompt>();
  /** Parse results of the prompts that include or are included, by name. */
  private readonly sources = new Map<string, PromptSource[]>();
  /** The names that have files, kept with `sources`: no set of all names is built per edit. */
  private readonly names = new Set<string>();
  private readonly issuesByName = new Map<string, Issue[]>();
  /** partial name → names of the prompts that include it. */
  private readonly includers = new Map<string, Set<string>>();

  private constructor(
    readonly root: string,
    readonly dir: string,
  ) {}

  /** Loads the whole tree once. */
  static async open(options: Omit<LoadOptions, "ref" | "staged">): Promise<LivePrompts> {
    const { root, dir, sources } = await parseWorkingTree(options);
    const tree = new LivePrompts(root, dir);
    tree.replaceAll(sources);
    return tree;
  }

  /** Every issue, sorted by file and line. */
  get issues(): Issue[] {
    return [...this.issuesByName.values()]
      .flat()
      .sort((a, b) =>
        a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line || a.col - b.col,
      );
  }

  /** How many errors the tree has: while any, it must not be served. */
  get errorCount(): number {
    let count = 0;
    for (const issues of this.issuesByName.values()) {
      for (const issue of issues) if (issue.severity === "error") count++;
    }
    return count;
  }

  /** The prompt name of an absolute path, if it is a prompt file of the tree. */
  nameOf(path: string): string | undefined {
    const rel = relative(`${this.root}${sep}${this.dir}`, path).split(sep).join("/");
    if (rel.startsWith("..") || !isPromptFileName(rel)) return undefined;
    if (rel.split("/").some((segment) => segment.startsWith("."))) return undefined;
    return rel.replace(/\.ya?ml$/, "");
  }

  /** Reloads everything (after a change too wide to follow file by file). */
  async reloadAll(): Promise<TreeUpdate> {
    const before = new Map([...this.prompts].map(([name, prompt]) => [name, prompt.version]));
    const { sources } = await parseWorkingTree({ root: this.root, dir: this.dir });
    this.replaceAll(sources);
    const names = new Set([...before.keys(), ...this.prompts.keys()]);
    return {
      changed: [...names]
        .filter((name) => before.get(name) !== this.prompts.get(name)?.version)
        .sort(),
    };
  }

  /** Re-reads the files of the given prompt names and re-checks what they can affect. */
  async update(names: Iterable<string>): Promise<TreeUpdate> {
    const touched = new Set<string>();
    // Whose parse results may no longer be needed once this update is done.
    const unlinked = new Set<string>();
    for (const name of names) {
      if (checkPromptName(name) !== undefined) continue;
      touched.add(name);
      unlinked.add(name);
      for (const ref of this.unindex(name)) unlinked.add(ref);
      const sources = await parsePromptNamed(this.root, this.dir, name);
      if (sources.length === 0) {
        this.sources.delete(name);
        this.names.delete(name);
      } else {
        this.sources.set(name, sources);
        this.names.add(name);
      }
      this.index(name);
    }
    // Upwards: whatever includes a touched prompt, directly or not, may change with it.
    const affected = new Set(touched);
    for (const name of affected)
      for (const includer of this.includers.get(name) ?? []) affected.add(includer);
    // Downwards: the partials they include are needed to check them (not re-checked themselves).
    const context = new Set(affected);
    for (const name of context) {
      if (!this.sources.has(name) && this.names.has(name)) {
        // A prompt that was no partial until now: its parse result was not kept.
        this.sources.set(name, await parsePromptNamed(this.root, this.dir, name));
        unlinked.add(name);
      }
      for (const source of this.sources.get(name) ?? []) {
        for (const ref of source.parsed.partialRefs) context.add(ref.name);
      }
    }
    const subset = [...context].flatMap((name) => this.sources.get(name) ?? []);
    const result = validatePrompts(subset, this.names);
    const changed: string[] = [];
    for (const name of affected) {
      const before = this.prompts.get(name)?.version;
      const prompt = result.prompts.get(name);
      if (prompt) this.prompts.set(name, prompt);
      else this.prompts.delete(name);
      if (before !== prompt?.version) changed.push(name);
      const files = new Set((this.sources.get(name) ?? []).map((source) => source.file));
      const issues = result.issues.filter((issue) => files.has(issue.file));
      if (issues.length > 0) this.issuesByName.set(name, issues);
      else this.issuesByName.delete(name);
    }
    for (const name of unlinked) this.forgetUnlessLinked(name);
    return { changed: changed.sort() };
  }

  private replaceAll(sources: readonly PromptSource[]): void {
    this.sources.clear();
    this.names.clear();
    this.includers.clear();
    this.prompts.clear();
    this.issuesByName.clear();
    for (const source of sources) {
      const list = this.sources.get(source.name);
      if (list) list.push(source);
      else this.sources.set(source.name, [source]);
      this.names.add(source.name);
    }
    for (const name of this.sources.keys()) this.index(name);
    const result = validatePrompts(sources);
    for (const [name, prompt] of result.prompts) this.prompts.set(name, prompt);
    const nameOfFile = new Map(sources.map((source) => [source.file, source.name]));
    for (const issue of result.issues) {
      const name = nameOfFile.get(issue.file);
      if (name === undefined) continue;
      const list = this.issuesByName.get(name);
      if (list) list.push(issue);
      else this.issuesByName.set(name, [issue]);
    }
    for (const name of this.names) this.forgetUnlessLinked(name);
  }

  /** Drops the parse result of a prompt that neither includes nor is included. */
  private forgetUnlessLinked(name: string): void {
    if ((this.includers.get(name)?.size ?? 0) > 0) return;
    const sources = this.sources.get(name);
    if (sources?.every((source) => source.parsed.partialRefs.length === 0))
      this.sources.delete(name);
  }

  private index(name: string): void {
    for (const source of this.sources.get(name) ?? []) {
      for (const ref of source.parsed.partialRefs) {
        const set = this.includers.get(ref.name);
        if (set) set.add(name);
        else this.includers.set(ref.name, new Set([name]));
      }
    }
  }

  /** Removes a prompt's partials from the index; returns their names. */
  private unindex(name: string): string[] {
    const refs: string[] = [];
    for (const source of this.sources.get(name) ?? []) {
      for (const ref of source.parsed.partialRefs) {
        this.includers.get(ref.name)?.delete(name);
        refs.push(ref.name);
      }
    }
    return refs;
  }
}
