// One input per declared variable, typed by its declaration: a string is a textarea, a number a
// number input, a boolean a checkbox, an array or object a JSON textarea checked as you type.
import type { VariableSpec } from "../types.js";

/** What the user typed: text for every kind of field but a checkbox. */
export type FieldValue = string | boolean;

/** A field's initial value: the declared default, else empty. */
export function initialValue(spec: VariableSpec): FieldValue {
  const fallback = spec.default;
  switch (spec.type) {
    case "boolean":
      return fallback === true;
    case "string":
      return typeof fallback === "string" ? fallback : "";
    case "number":
      return typeof fallback === "number" ? String(fallback) : "";
    default:
      return fallback === undefined ? "" : JSON.stringify(fallback, null, 2);
  }
}

/**
 * The value to send for a field: `{value}`, `{}` when it is left empty (so a required one is
 * reported missing by the server, as an application leaving it out would be), or `{error}`
 * naming the field when the text is not of its type.
 */
export function parseField(
  name: string,
  spec: VariableSpec,
  raw: FieldValue,
): { value?: unknown; error?: string } {
  if (typeof raw === "boolean") return { value: raw };
  if (raw.trim() === "" && spec.type !== "string") return {};
  switch (spec.type) {
    case "string":
      return raw === "" ? {} : { value: raw };
    case "number": {
      const number = Number(raw);
      return Number.isFinite(number) ? { value: number } : { error: `${name}: must be a number` };
    }
    default: {
      let value: unknown;
      try {
        value = JSON.parse(raw);
      } catch (error) {
        return {
          error: `${name}: not valid JSON (${error instanceof Error ? error.message : String(error)})`,
        };
      }
      const isArray = Array.isArray(value);
      const isObject = typeof value === "object" && value !== null && !isArray;
      if (spec.type === "array" && !isArray)
        return { error: `${name}: must be a JSON array, e.g. ["a", "b"]` };
      if (spec.type === "object" && !isObject)
        return { error: `${name}: must be a JSON object, e.g. {"key": "value"}` };
      return { value };
    }
  }
}

export function VariableField({
  name,
  spec,
  value,
  error,
  from,
  onChange,
}: {
  name: string;
  spec: VariableSpec;
  value: FieldValue;
  error: string | undefined;
  /** The partial that declares it, when not the prompt itself. */
  from: string | null;
  onChange: (value: FieldValue) => void;
}) {
  const id = `var-${name}`;
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const described = [spec.description ? hintId : "", error ? errorId : ""].join(" ").trim();
  const common = {
    id,
    "aria-describedby": described || undefined,
    "aria-invalid": error ? true : undefined,
    "aria-required": spec.required ? true : undefined,
  };
  const title = (
    <>
      <span class="mono">{name}</span> <span class="muted">{spec.type}</span>
      {spec.required && <span class="required"> (required)</span>}
      {from !== null && <span class="muted"> from {from}</span>}
    </>
  );
  return (
    <div class={`variable-field${error ? " invalid" : ""}`}>
      {typeof value === "boolean" ? (
        <label class="check" for={id}>
          <input
            type="checkbox"
            {...common}
            checked={value}
            onChange={(event) => onChange(event.currentTarget.checked)}
          />
          {title}
        </label>
      ) : (
        <>
          <label for={id}>{title}</label>
          {spec.type === "number" ? (
            <input
              type="number"
              step="any"
              {...common}
              value={value}
              onInput={(event) => onChange(event.currentTarget.value)}
            />
          ) : (
            <textarea
              {...common}
              class={spec.type === "string" ? undefined : "json"}
              spellcheck={spec.type === "string"}
              rows={spec.type === "string" ? 2 : 4}
              placeholder={
                spec.type === "array"
                  ? '["first", "second"]'
                  : spec.type === "object"
                    ? '{"key": "value"}'
                    : ""
              }
              value={value}
              onInput={(event) => onChange(event.currentTarget.value)}
            />
          )}
        </>
      )}
      {spec.description && (
        <p class="hint" id={hintId}>
          {spec.description}
        </p>
      )}
      {error && (
        <p class="error" id={errorId} role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
