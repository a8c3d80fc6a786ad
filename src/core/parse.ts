import {
  type Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
  type Scalar,
  type YAMLMap,
} from "yaml";
import { isPlainObject } from "./json.js";
import { DEFAULT_VARIANT, VARIABLE_NAME_PATTERN, VARIANT_NAME_PATTERN } from "./names.js";
import { closestMatch, didYouMean } from "./suggest.js";
import { analyzeTemplate, DEFAULT_TAGS } from "./template.js";
import {
  type FileIssue,
  type JsonObject,
  type JsonValue,
  type Message,
  type PromptSpec,
  ROLES,
  type Role,
  type Severity,
  VARIABLE_TYPES,
  type VariableSpec,
  type VariableType,
  type VariantSpec,
} from "./types.js";
import { article, toTemplateData, valueType } from "./variables.js";
import { promptVersion } from "./version.js";

/** A variable used by a template, placed in the file. */
export interface VariableUse {
  name: string;
  /** The tag as written, e.g. `{{user.name}}`. */
  tag: string;
  line: number;
  col: number;
  path: string;
  /** Enclosing `{{#section}}` names, outermost first. */
  sections: string[];
  /** The tag looks like literal text rather than a variable (`${{ x }}`, `={{ x }}`). */
  literalLike: boolean;
}

/** A `{{> partial}}` placed in the file. */
export interface PartialRef {
  name: string;
  line: number;
  col: number;
  path: string;
}

/**
 * What one prompt file says on its own, before it is checked against the other prompts.
 * Plain JSON, so it can be cached by the file's content.
 */
export interface ParsedPromptFile {
  /**
   * What could be read of the prompt: present whenever the file is a mapping, so that the
   * checks against other files still run and every problem is reported at once.
   */
  spec?: PromptSpec;
  /** True when the file has no error of its own. */
  valid: boolean;
  issues: FileIssue[];
  uses: VariableUse[];
  partialRefs: PartialRef[];
  /** Where each declared variable's name stands. */
  declarations: Record<string, { line: number; col: number }>;
  /**
   * `{name}` with single braces in a template, as Python's `str.format` writes a placeholder:
   * Mustache leaves it as text, so a declared variable used only so gets a hint. Left out when
   * there is none.
   */
  singleBraces?: VariableUse[];
  /**
   * The version of a valid prompt that includes no partial, which nothing else changes: kept
   * with the parse (and so in the parse cache), it is not computed again on every load.
   */
  ownVersion?: string;
}

/** Top-level keys of a prompt file, with what they hold (for "unknown key" help). */
export const PROMPT_KEYS = [
  "description",
  "model",
  "variables",
  "template",
  "messages",
  "variants",
  "raw",
  "delimiters",
  "metadata",
] as const;
const VARIABLE_KEYS = ["type", "required", "default", "description"] as const;
const VARIANT_KEYS = ["weight", "description", "template", "messages", "model"] as const;
const MESSAGE_KEYS = ["role", "content"] as const;

/** The YAML aliases one file may expand: enough for real reuse, far too few for a "billion laughs". */
const MAX_ALIAS_COUNT = 100;

/** `{name}` alone, not inside `{{…}}` or `{{{…}}}`: a `str.format` placeholder. */
const SINGLE_BRACES = /(?<!\{)\{([A-Za-z_][A-Za-z0-9_]*)\}(?!\})/g;

const LITERAL_HINT =
  "if the braces are literal text, set `raw: true` or choose other `delimiters` for this prompt";

type AnyNode = Node | null | undefined;

/** Parses the text of one prompt file and checks everything that needs no other file. */
export function parsePromptSource(text: string): ParsedPromptFile {
  const source = normalizeSource(text);
  try {
    const parsed = new FileParser(source).run();
    const control = controlCharacterIssue(source);
    if (control) {
      parsed.issues.unshift(control);
      parsed.valid = false;
    }
    if (parsed.valid && parsed.spec && parsed.partialRefs.length === 0) {
      parsed.ownVersion = promptVersion(parsed.spec);
    }
    return parsed;
  } catch (error) {
    // The YAML library recurses per nesting level: absurd nesting must not take the tool down.
    const reason = error instanceof RangeError ? "nesting is too deep" : String(error);
    return {
      issues: [
        {
          line: 1,
          col: 1,
          path: "",
          code: "yaml-syntax",
          severity: "error",
          message: `YAML: cannot be parsed: ${reason}`,
        },
      ],
      uses: [],
      partialRefs: [],
      declarations: {},
      valid: false,
    };
  }
}

/** Strips a byte-order mark and turns CRLF/CR line ends into LF, so every checkout agrees. */
export function normalizeSource(text: string): string {
  const withoutBom = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  return withoutBom.includes("\r") ? withoutBom.replace(/\r\n?/g, "\n") : withoutBom;
}

/**
 * C0 control characters but tab, line feed and carriage return, and DEL. Typed into a file as
 * they are, they are invisible in an editor and a review (git even calls the file binary); an
 * escape in a double-quoted string (`"\u0007"`) is visible, and stays allowed.
 */
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTER = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g;

/** The first raw control character of a file as an issue, counting the others. */
function controlCharacterIssue(source: string): FileIssue | undefined {
  CONTROL_CHARACTER.lastIndex = 0;
  const first = CONTROL_CHARACTER.exec(source);
  if (!first) return undefined;
  const more = (source.match(CONTROL_CHARACTER)?.length ?? 1) - 1;
  const before = source.slice(0, first.index);
  const line = before.split("\n").length;
  const col = first.index - before.lastIndexOf("\n");
  const code = (first[0].codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0");
  const others = more === 0 ? "" : ` (and ${more} more)`;
  return {
    line,
    col,
    path: "",
    code: "control-character",
    severity: "error",
    message: `control character U+${code} in the file${others}, invisible in an editor; delete it, or write it as "\\u${code}" in a double-quoted string if you mean it`,
  };
}

function describeNode(node: AnyNode): string {
  if (node === null || node === undefined) return "nothing";
  if (isMap(node)) return "a mapping";
  if (isSeq(node)) return "a list";
  if (isScalar(node)) {
    const value = node.value;
    if (value === null) return "null";
    if (typeof value === "string") return "a string";
    if (typeof value === "number") return "a number";
    if (typeof value === "boolean") return "a boolean";
  }
  return "a value of another kind";
}

class FileParser {
  private readonly lineCounter = new LineCounter();
  private readonly issues: FileIssue[] = [];
  private readonly uses: VariableUse[] = [];
  private readonly partialRefs: PartialRef[] = [];
  private readonly declarations: Record<string, { line: number; col: number }> = {};
  private singleBraces: VariableUse[] | undefined;
  private doc!: Document;
  private tags: [string, string] = DEFAULT_TAGS;
  private raw = false;
  /** An unknown top-level key looked like `template` or `messages`: no second error for it. */
  private misspelledBody = false;

  constructor(private readonly source: string) {}

  run(): ParsedPromptFile {
    const result = (): ParsedPromptFile => ({
      issues: this.issues,
      uses: this.uses,
      partialRefs: this.partialRefs,
      declarations: this.declarations,
      ...(this.singleBraces ? { singleBraces: this.singleBraces } : {}),
      valid: false,
    });
    const doc = parseDocument(this.source, {
      lineCounter: this.lineCounter,
      prettyErrors: false,
      uniqueKeys: true,
      keepSourceTokens: false,
    });
    this.doc = doc;
    const seen = new Set<string>();
    for (const error of doc.errors) {
      // The parser records a stack overflow once per level as it unwinds: say it once.
      const overflow = /call stack/i.test(error.message);
      const key = overflow ? "overflow" : error.message;
      if (seen.has(key)) continue;
      seen.add(key);
      const { line, col } = this.lineCounter.linePos(error.pos[0]);
      if (overflow) {
        this.push(line, col, "", "yaml-syntax", "YAML: nesting is too deep to read");
        continue;
      }
      if (error.code === "MULTIPLE_DOCS") {
        this.push(
          line,
          col,
          "",
          "multiple-documents",
          "a second YAML document starts here (`---`); a prompt file holds one prompt: remove the `---`, or move what follows to a file of its own",
        );
        continue;
      }
      // A value that starts with `{{` breaks the line: one hint for the line says why.
      const braces = this.bracesOnLine(line);
      if (braces) {
        if (!seen.has(`braces:${line}`)) {
          seen.add(`braces:${line}`);
          this.push(line, braces.col, "", "unquoted-braces", bracesHint(braces.key, braces.tag));
        }
        continue;
      }
      this.issues.push({
        line,
        col,
        path: "",
        code: "yaml-syntax",
        severity: "error",
        message: `YAML: ${firstLine(error.message)}`,
      });
    }
    if (this.issues.length > 0) return result();
    return this.readRoot(this.resolve(doc.contents), result);
  }

  private readRoot(root: AnyNode, result: () => ParsedPromptFile): ParsedPromptFile {
    if (root === null || root === undefined || (isScalar(root) && root.value === null)) {
      this.add(
        undefined,
        "",
        "empty-file",
        "the file is empty: a prompt needs `template` or `messages`",
      );
      return result();
    }
    if (!isMap(root)) {
      this.add(
        root,
        "",
        "not-a-mapping",
        `a prompt file must be a mapping (key: value), found ${describeNode(root)}`,
      );
      return result();
    }
    const spec = this.readPrompt(root);
    return { ...result(), spec, valid: !this.issues.some((issue) => issue.severity === "error") };
  }

  private readPrompt(root: YAMLMap): PromptSpec {
    const fields = this.readFields(root, "", PROMPT_KEYS);
    const spec: PromptSpec = { variables: {}, variants: {} };

    const raw = fields.get("raw");
    if (raw) this.raw = this.readBoolean(raw.value, "raw") ?? false;
    if (this.raw) spec.raw = true;
    const delimiters = fields.get("delimiters");
    if (delimiters) {
      const tags = this.readDelimiters(delimiters.value);
      if (tags) {
        spec.delimiters = tags;
        this.tags = tags;
        if (this.raw) {
          this.add(
            delimiters.key,
            "delimiters",
            "raw-and-delimiters",
            "`delimiters` has no use when `raw: true`",
          );
        }
      }
    }

    const description = fields.get("description");
    if (description) {
      const text = this.readString(description.value, "description");
      if (text !== undefined) spec.description = text;
    }
    const model = fields.get("model");
    if (model) {
      const value = this.readObject(model.value, "model");
      if (value) spec.model = value;
    }
    const metadata = fields.get("metadata");
    if (metadata) {
      const value = this.readObject(metadata.value, "metadata");
      if (value) spec.metadata = value;
    }
    const variables = fields.get("variables");
    if (variables) spec.variables = this.readVariables(variables.value);

    const template = fields.get("template");
    const messages = fields.get("messages");
    if (template && messages) {
      this.add(
        messages.key,
        "messages",
        "template-and-messages",
        "a prompt has either `template` (text) or `messages` (chat), not both",
      );
    } else if (!template && !messages && !this.misspelledBody) {
      this.add(
        root,
        "",
        "missing-body",
        "a prompt needs `template` (a text prompt) or `messages` (a chat prompt)",
      );
    }
    if (template) {
      const text = this.readTemplate(template.value, "template");
      if (text !== undefined) spec.template = text;
    } else if (messages) {
      const list = this.readMessages(messages.value, "messages");
      if (list) spec.messages = list;
    }

    const variants = fields.get("variants");
    if (variants) {
      spec.variants = this.readVariants(variants.value, spec.messages ? "messages" : "template");
    }
    return spec;
  }

  /** Collects a mapping's pairs by key, reporting unknown and non-string keys. */
  private readFields(
    map: YAMLMap,
    path: string,
    allowed: readonly string[],
  ): Map<string, { key: AnyNode; value: AnyNode }> {
    const fields = new Map<string, { key: AnyNode; value: AnyNode }>();
    for (const pair of map.items) {
      const keyNode = pair.key as AnyNode;
      const key = isScalar(keyNode) ? keyNode.value : undefined;
      if (typeof key !== "string") {
        this.add(keyNode, path, "bad-key", `keys must be strings, found ${describeNode(keyNode)}`);
        continue;
      }
      const fieldPath = joinPath(path, key);
      if (!allowed.includes(key)) {
        const where = path === "" ? "" : ` in ${path}`;
        const suggestion = closestMatch(key, allowed);
        if (path === "" && (suggestion === "template" || suggestion === "messages"))
          this.misspelledBody = true;
        this.add(
          keyNode,
          fieldPath,
          "unknown-key",
          `unknown key "${key}"${where}${didYouMean(key, allowed)}; allowed: ${allowed.join(", ")}`,
        );
        continue;
      }
      fields.set(key, { key: keyNode, value: pair.value as AnyNode });
    }
    return fields;
  }

  private readVariables(node: AnyNode): Record<string, VariableSpec> {
    const variables: Record<string, VariableSpec> = {};
    const map = this.resolve(node);
    if (!isMap(map)) {
      if (!(isScalar(map) && map.value === null)) {
        this.add(
          map ?? node,
          "variables",
          "bad-type",
          `\`variables\` must be a mapping of name → type, found ${describeNode(map)}`,
        );
      }
      return variables;
    }
    for (const pair of map.items) {
      const keyNode = pair.key as AnyNode;
      const name = isScalar(keyNode) ? keyNode.value : undefined;
      if (typeof name !== "string" || !VARIABLE_NAME_PATTERN.test(name) || name === "__proto__") {
        this.add(
          keyNode,
          "variables",
          "bad-variable-name",
          `variable name ${JSON.stringify(name ?? null)} must start with a letter or _ and hold only letters, digits and _`,
        );
        continue;
      }
      const offset = keyNode?.range?.[0];
      if (offset !== undefined) this.declarations[name] = this.lineCounter.linePos(offset);
      const spec = this.readVariable(pair.value as AnyNode, `variables.${name}`);
      if (spec) variables[name] = spec;
    }
    return variables;
  }

  private readVariable(node: AnyNode, path: string): VariableSpec | undefined {
    const value = this.resolve(node);
    if (isScalar(value) && typeof value.value === "string") {
      const type = this.checkType(value, path, value.value);
      return type && { type, required: true };
    }
    if (!isMap(value)) {
      this.add(
        value ?? node,
        path,
        "bad-variable",
        `\`${path}\` must be a type (${VARIABLE_TYPES.join(", ")}) or a mapping with \`type\`, found ${describeNode(value)}`,
      );
      return undefined;
    }
    const fields = this.readFields(value, path, VARIABLE_KEYS);
    const typeField = fields.get("type");
    if (!typeField) {
      this.add(
        value,
        path,
        "missing-type",
        `\`${path}\` needs a \`type\` (${VARIABLE_TYPES.join(", ")})`,
      );
      return undefined;
    }
    const typeNode = this.resolve(typeField.value);
    const typeName = this.readString(typeNode, `${path}.type`);
    const type =
      typeName === undefined ? undefined : this.checkType(typeNode, `${path}.type`, typeName);
    if (!type) return undefined;
    const spec: VariableSpec = { type, required: true };
    const required = fields.get("required");
    if (required) {
      const flag = this.readBoolean(required.value, `${path}.required`);
      if (flag !== undefined) spec.required = flag;
    }
    const description = fields.get("description");
    if (description) {
      const text = this.readString(description.value, `${path}.description`);
      if (text !== undefined) spec.description = text;
    }
    const fallback = fields.get("default");
    if (fallback) {
      const value = this.toJs(fallback.value, `${path}.default`);
      if (value !== undefined) {
        if (value === null || valueType(value) !== type) {
          this.add(
            fallback.value ?? fallback.key,
            `${path}.default`,
            "bad-default",
            `\`${path}.default\` must be ${article(type)}, found ${value === null ? "null" : valueType(value)}`,
          );
        } else {
          spec.default = value;
        }
      }
    }
    return spec;
  }

  private checkType(node: AnyNode, path: string, name: string): VariableType | undefined {
    if ((VARIABLE_TYPES as readonly string[]).includes(name)) return name as VariableType;
    this.add(
      node,
      path,
      "bad-variable-type",
      `unknown type "${name}" at \`${path}\`${didYouMean(name, VARIABLE_TYPES)}; one of ${VARIABLE_TYPES.join(", ")}`,
    );
    return undefined;
  }

  private readVariants(node: AnyNode, kind: "template" | "messages"): Record<string, VariantSpec> {
    // Over 80 lines on purpose: each field of a variant checked in turn, every problem reported.
    const variants: Record<string, VariantSpec> = {};
    const map = this.resolve(node);
    if (!isMap(map)) {
      if (!(isScalar(map) && map.value === null)) {
        this.add(
          map ?? node,
          "variants",
          "bad-type",
          `\`variants\` must be a mapping of name → variant, found ${describeNode(map)}`,
        );
      }
      return variants;
    }
    let total = 0;
    for (const pair of map.items) {
      const keyNode = pair.key as AnyNode;
      const name = isScalar(keyNode) ? keyNode.value : undefined;
      if (typeof name !== "string" || !VARIANT_NAME_PATTERN.test(name) || name === "__proto__") {
        this.add(
          keyNode,
          "variants",
          "bad-variant-name",
          `variant name ${JSON.stringify(name ?? null)} must hold only letters, digits, _ . and -`,
        );
        continue;
      }
      const path = `variants.${name}`;
      if (name === DEFAULT_VARIANT) {
        this.add(
          keyNode,
          path,
          "reserved-variant",
          `"${DEFAULT_VARIANT}" is the prompt's own body and cannot be declared as a variant; rename it`,
        );
        continue;
      }
      const value = this.resolve(pair.value as AnyNode);
      if (!isMap(value)) {
        this.add(
          value ?? keyNode,
          path,
          "bad-variant",
          `\`${path}\` must be a mapping with a \`weight\`, found ${describeNode(value)}`,
        );
        continue;
      }
      const fields = this.readFields(value, path, VARIANT_KEYS);
      const variant: VariantSpec = { weight: 0 };
      const weight = fields.get("weight");
      if (!weight) {
        this.add(
          value,
          path,
          "missing-weight",
          `\`${path}\` needs a \`weight\` (percent of units, 0–100)`,
        );
      } else {
        const weightNode = this.resolve(weight.value);
        const number = isScalar(weightNode) ? weightNode.value : undefined;
        if (typeof number !== "number" || !Number.isFinite(number) || number < 0 || number > 100) {
          this.add(
            weightNode ?? weight.key,
            `${path}.weight`,
            "bad-weight",
            `\`${path}.weight\` must be a number from 0 to 100 (percent)`,
          );
        } else {
          variant.weight = number;
          total += number;
        }
      }
      const description = fields.get("description");
      if (description) {
        const text = this.readString(description.value, `${path}.description`);
        if (text !== undefined) variant.description = text;
      }
      const model = fields.get("model");
      if (model) {
        const object = this.readObject(model.value, `${path}.model`);
        if (object) variant.model = object;
      }
      const template = fields.get("template");
      const messages = fields.get("messages");
      if (template && messages) {
        this.add(
          messages.key,
          `${path}.messages`,
          "template-and-messages",
          `variant "${name}" has both \`template\` and \`messages\`; keep the one the prompt uses (\`${kind}\`)`,
        );
      } else if (template && kind === "messages") {
        this.add(
          template.key,
          `${path}.template`,
          "variant-kind",
          `variant "${name}" has \`template\` but the prompt is a chat prompt; give it \`messages\``,
        );
      } else if (messages && kind === "template") {
        this.add(
          messages.key,
          `${path}.messages`,
          "variant-kind",
          `variant "${name}" has \`messages\` but the prompt is a text prompt; give it \`template\``,
        );
      } else if (template) {
        const text = this.readTemplate(template.value, `${path}.template`);
        if (text !== undefined) variant.template = text;
      } else if (messages) {
        const list = this.readMessages(messages.value, `${path}.messages`);
        if (list) variant.messages = list;
      }
      variants[name] = variant;
    }
    if (total > 100) {
      this.add(
        node,
        "variants",
        "weights-over-100",
        `variant weights add up to ${total}%, more than 100%; the "${DEFAULT_VARIANT}" arm gets what is left of 100`,
      );
    }
    return variants;
  }

  private readMessages(node: AnyNode, path: string): Message[] | undefined {
    const seq = this.resolve(node);
    if (!isSeq(seq) || seq.items.length === 0) {
      this.add(
        seq ?? node,
        path,
        "bad-messages",
        `\`${path}\` must be a non-empty list of { role, content }, found ${isSeq(seq) ? "an empty list" : describeNode(seq)}`,
      );
      return undefined;
    }
    const messages: Message[] = [];
    seq.items.forEach((item, index) => {
      const itemPath = `${path}[${index}]`;
      const map = this.resolve(item as AnyNode);
      if (!isMap(map)) {
        this.add(
          map ?? node,
          itemPath,
          "bad-message",
          `\`${itemPath}\` must be a mapping with \`role\` and \`content\`, found ${describeNode(map)}`,
        );
        return;
      }
      const fields = this.readFields(map, itemPath, MESSAGE_KEYS);
      const roleField = fields.get("role");
      const contentField = fields.get("content");
      if (!roleField || !contentField) {
        this.add(
          map,
          itemPath,
          "bad-message",
          `\`${itemPath}\` needs both \`role\` and \`content\``,
        );
        return;
      }
      const role = this.readString(roleField.value, `${itemPath}.role`);
      if (role !== undefined && !(ROLES as readonly string[]).includes(role)) {
        this.add(
          roleField.value,
          `${itemPath}.role`,
          "bad-role",
          `unknown role "${role}"${didYouMean(role, ROLES)}; one of ${ROLES.join(", ")}`,
        );
        return;
      }
      const content = this.readTemplate(contentField.value, `${itemPath}.content`);
      if (role !== undefined && content !== undefined)
        messages.push({ role: role as Role, content });
    });
    return messages.length === seq.items.length ? messages : undefined;
  }

  /**
   * Where a line holds `key: {{…`, a value YAML reads as a mapping (or fails on), with the key
   * and the first tag.
   */
  private bracesOnLine(line: number): { col: number; key: string; tag: string } | undefined {
    const starts = this.lineCounter.lineStarts;
    const start = starts[line - 1];
    if (start === undefined) return undefined;
    const text = this.source.slice(start, starts[line] ?? this.source.length);
    const match = /^(\s*(?:-\s+)?([A-Za-z_][\w.-]*):[ \t]+)(\{\{[^}\n]*\}*)/.exec(text);
    if (!match) return undefined;
    const [, before = "", key = "", tag = ""] = match;
    return { col: before.length + 1, key, tag };
  }

  /** Reads a template string and records the variables and partials it uses. */
  private readTemplate(node: AnyNode, path: string): string | undefined {
    const scalar = this.resolve(node);
    const text = this.readString(scalar, path);
    if (text === undefined || this.raw || !isScalar(scalar)) return text;
    const analysis = analyzeTemplate(text, this.tags);
    if (analysis.error) {
      const { line, col } = this.locate(scalar, text, analysis.error.offset, analysis.error.length);
      this.push(
        line,
        col,
        path,
        "template-syntax",
        `Mustache: ${analysis.error.message}; ${LITERAL_HINT}`,
      );
      return text;
    }
    for (const use of analysis.variables) {
      const { line, col } = this.locate(scalar, text, use.offset, use.tag.length);
      if (use.literalLike && !VARIABLE_NAME_PATTERN.test(use.name)) {
        this.push(
          line,
          col,
          path,
          "literal-braces",
          `${use.tag} is not a variable name; ${LITERAL_HINT}`,
        );
        continue;
      }
      this.uses.push({
        name: use.name,
        tag: use.tag,
        line,
        col,
        path,
        sections: use.sections,
        literalLike: use.literalLike,
      });
    }
    for (const partial of analysis.partials) {
      const { line, col } = this.locate(scalar, text, partial.offset, partial.length);
      this.partialRefs.push({ name: partial.name, line, col, path });
    }
    if (this.tags === DEFAULT_TAGS && text.includes("{")) this.findSingleBraces(scalar, text, path);
    return text;
  }

  /** Records each `{name}` of a template: see {@link ParsedPromptFile.singleBraces}. */
  private findSingleBraces(scalar: Scalar, text: string, path: string): void {
    for (const match of text.matchAll(SINGLE_BRACES)) {
      const [tag, name = ""] = match;
      const { line, col } = this.locate(scalar, text, match.index, tag.length);
      const use = { name, tag, line, col, path, sections: [], literalLike: false };
      (this.singleBraces ??= []).push(use);
    }
  }

  private readDelimiters(node: AnyNode): [string, string] | undefined {
    const seq = this.resolve(node);
    const values = isSeq(seq) ? seq.items.map((item) => this.resolve(item as AnyNode)) : [];
    const strings = values.map((item) => (isScalar(item) ? item.value : undefined));
    const valid =
      strings.length === 2 &&
      strings.every((value) => typeof value === "string" && /^[^\s=]+$/.test(value)) &&
      strings[0] !== strings[1];
    if (!valid) {
      this.add(
        seq ?? node,
        "delimiters",
        "bad-delimiters",
        '`delimiters` must be two different tags without spaces or =, e.g. ["<%", "%>"]',
      );
      return undefined;
    }
    return [strings[0] as string, strings[1] as string];
  }

  private readString(node: AnyNode, path: string): string | undefined {
    const value = this.resolve(node);
    if (isScalar(value) && typeof value.value === "string") return value.value;
    if (isMap(value) && value.range && this.source.startsWith("{{", value.range[0])) {
      const { line } = this.lineCounter.linePos(value.range[0]);
      const key =
        path
          .split(".")
          .at(-1)
          ?.replace(/\[\d+\]$/, "") ?? path;
      const tag = this.bracesOnLine(line)?.tag ?? "{{…}}";
      this.add(value, path, "unquoted-braces", bracesHint(key, tag));
      return undefined;
    }
    this.add(
      value ?? node,
      path,
      "bad-type",
      `\`${path}\` must be a string, found ${describeNode(value)}`,
    );
    return undefined;
  }

  private readBoolean(node: AnyNode, path: string): boolean | undefined {
    const value = this.resolve(node);
    if (isScalar(value) && typeof value.value === "boolean") return value.value;
    this.add(
      value ?? node,
      path,
      "bad-type",
      `\`${path}\` must be true or false, found ${describeNode(value)}`,
    );
    return undefined;
  }

  private readObject(node: AnyNode, path: string): JsonObject | undefined {
    const value = this.resolve(node);
    if (!isMap(value)) {
      this.add(
        value ?? node,
        path,
        "bad-type",
        `\`${path}\` must be a mapping, found ${describeNode(value)}`,
      );
      return undefined;
    }
    const js = this.toJs(value, path);
    return isPlainObject(js) ? js : undefined;
  }

  /** Converts a free-form node to JSON data, refusing alias bombs and non-JSON values. */
  private toJs(node: AnyNode, path: string): JsonValue | undefined {
    if (node === null || node === undefined) return null;
    let value: unknown;
    try {
      value = node.toJS(this.doc, { maxAliasCount: MAX_ALIAS_COUNT });
    } catch (error) {
      const reason = error instanceof Error ? firstLine(error.message) : String(error);
      this.add(node, path, "yaml-aliases", `\`${path}\` cannot be read: ${reason}`);
      return undefined;
    }
    const copy = toTemplateData(value);
    if ("problem" in copy) {
      this.add(
        node,
        path,
        "bad-value",
        `\`${path}\` holds ${copy.problem}, which JSON cannot carry`,
      );
      return undefined;
    }
    return value as JsonValue;
  }

  /** Follows aliases (`*anchor`) to the node they stand for. */
  private resolve(node: AnyNode): AnyNode {
    let current = node;
    for (let depth = 0; isAlias(current); depth++) {
      if (depth > MAX_ALIAS_COUNT) return undefined;
      current = current.resolve(this.doc);
    }
    return current;
  }

  /**
   * File position of the text at `offset` (of `length`) in a scalar's value. The text of a tag is
   * found again in the scalar's source — its n-th occurrence there is its n-th in the value, as
   * tags do not span lines — which is exact for block, folded, plain and quoted scalars alike.
   */
  private locate(
    scalar: Scalar,
    value: string,
    offset: number,
    length: number,
  ): { line: number; col: number } {
    const [start, end] = scalar.range ?? [0, 0];
    const needle = value.slice(offset, offset + length);
    if (needle !== "" && !needle.includes("\n")) {
      let nth = 0;
      for (let i = value.indexOf(needle); i !== -1 && i < offset; i = value.indexOf(needle, i + 1))
        nth++;
      const source = this.source.slice(start, end);
      let at = source.indexOf(needle);
      for (let k = 0; k < nth && at !== -1; k++) at = source.indexOf(needle, at + 1);
      if (at !== -1) return this.lineCounter.linePos(start + at);
    }
    return this.lineCounter.linePos(start);
  }

  private add(
    node: AnyNode,
    path: string,
    code: string,
    message: string,
    severity: Severity = "error",
  ): void {
    const offset = node?.range?.[0];
    const { line, col } =
      offset === undefined ? { line: 1, col: 1 } : this.lineCounter.linePos(offset);
    this.push(line, col, path, code, message, severity);
  }

  private push(
    line: number,
    col: number,
    path: string,
    code: string,
    message: string,
    severity: Severity = "error",
  ): void {
    this.issues.push({ line, col, path, code, message, severity });
  }
}

/** The hint for `key: {{name}} …`, which YAML reads as a mapping (a flow map) rather than text. */
function bracesHint(key: string, tag: string): string {
  return `YAML reads a value that starts with "{" as a mapping, not text: quote it (${key}: "${tag} …") or use \`${key}: |\` with the text on the lines below`;
}

function joinPath(parent: string, key: string): string {
  return parent === "" ? key : `${parent}.${key}`;
}

function firstLine(text: string): string {
  return text.split("\n")[0]?.trim() ?? text;
}
