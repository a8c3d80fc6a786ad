// Small prompts that several test files use, each showing one part of the format.

/** A text prompt with one required variable. */
export const GREETING = `description: Greets someone by name.
variables:
  name: string
template: |
  Hello {{name}}!
`;

/** A text prompt with an array section, a model and an A/B variant. */
export const ANSWERER = `description: Answers from the facts it is given.
model: { name: model-one, temperature: 0.2 }
variables:
  infos: { type: array, description: Facts }
  user_query: string
template: |
  Facts:
  {{#infos}}
  - {{.}}
  {{/infos}}
  Q: {{user_query}}
variants:
  concise:
    weight: 30
    template: |
      Briefly: {{user_query}}
`;

/** A chat prompt with an optional number variable. */
export const PLANNER = `description: Plans searches.
model: { name: model-two }
variables:
  user_query: string
  max_queries: { type: number, required: false, default: 3 }
messages:
  - role: system
    content: Write at most {{max_queries}} queries.
  - role: user
    content: "{{user_query}}"
`;
