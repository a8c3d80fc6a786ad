export type {
  ClientRenderOptions,
  ClientRenderResult,
  Outcome,
  PromptClientEvents,
  PromptClientOptions,
} from "./client/client.js";
export { PromptClient } from "./client/client.js";
export type { PromptName, PromptRegistry, VariablesOf } from "./client/registry.js";
export type { UsageSink, UsageSinkResult } from "./client/usage-queue.js";
export type { Bundle, BundlePrompt, BundleSource } from "./core/bundle.js";
export { BUNDLE_FORMAT, bundleToPrompts, createBundle, parseBundle } from "./core/bundle.js";
export type { PromptLookup, RenderOptions, RenderResult } from "./core/render.js";
export { promptVariables, renderPrompt } from "./core/render.js";
export type {
  Issue,
  JsonObject,
  JsonValue,
  Message,
  Prompt,
  PromptSpec,
  Role,
  Severity,
  VariableSpec,
  VariableType,
  VariantSpec,
} from "./core/types.js";
export type { OutcomeEvent, PromptEvent, UsageEvent } from "./core/usage.js";
export { chooseVariant, unitBucket } from "./core/variants.js";
export { promptVersion } from "./core/version.js";
export type { PromptsErrorCode } from "./errors.js";
export { PromptsError } from "./errors.js";
export type { LoadOptions, LoadResult } from "./store/load.js";
export { loadPrompts, loadPromptsByName } from "./store/load.js";
