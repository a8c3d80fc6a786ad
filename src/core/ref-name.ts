/** The longest ref a request may name. */
const MAX_REF_LENGTH = 256;

/**
 * Why `ref` cannot be a revision a request names (`HEAD~1`, `v1`, a sha, a label), or
 * undefined when it can. Checked before git sees it: nothing that git could read as an option
 * (a leading `-`), as a range (`..`), as a path (`:`), a pattern (`? * [`) or a reflog
 * (`@{`) passes, nor control characters, spaces or backslashes.
 */
export function refProblem(ref: string): string | undefined {
  if (ref.length > MAX_REF_LENGTH) return `must be at most ${MAX_REF_LENGTH} characters`;
  if (ref.startsWith("-")) return `must not start with "-", got ${JSON.stringify(ref)}`;
  // eslint-disable-next-line no-control-regex -- control characters are what is refused
  const bad = /[\x00-\x20\x7f:?*[\\]|\.\.|@\{/.exec(ref);
  if (bad) return `${JSON.stringify(bad[0])} cannot be in a ref, got ${JSON.stringify(ref)}`;
  return undefined;
}
