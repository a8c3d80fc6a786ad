import { LABEL_NAMESPACE } from "./labels.js";
import { runGit } from "./objects.js";

/** A branch or a tag, with the commit it points to (a tag: the commit it tags). */
export interface NamedRef {
  name: string;
  commit: string;
  /** The commit's date, ISO 8601. */
  date: string;
  /** The commit's subject. */
  subject: string;
}

/** What `GET /v1/refs` answers: every ref a revision may be chosen from. */
export interface RefListing {
  /** The checked-out branch (null when detached) and commit (null before the first commit). */
  head: { branch: string | null; commit: string | null };
  /** By name. */
  branches: NamedRef[];
  /** Newest first. */
  tags: NamedRef[];
  /** By name; `commit` is the commit the label deploys. */
  labels: { name: string; commit: string }[];
}

const FIELDS = [
  "%(refname)",
  "%(objectname)",
  "%(*objectname)",
  "%(committerdate:iso-strict)",
  "%(*committerdate:iso-strict)",
  "%(subject)",
  "%(*subject)",
  "%(HEAD)",
  "%(trailers:key=Prompts-Target,valueonly)",
];

/**
 * The branches, tags and labels of a repository, and its HEAD: one `for-each-ref` for all
 * refs (a tag's commit and a label's target come with it), one `rev-parse` for HEAD, at once.
 */
export async function listRefs(root: string): Promise<RefListing> {
  const [output, headCommit] = await Promise.all([
    runGit(root, [
      "for-each-ref",
      "--sort=refname",
      `--format=${FIELDS.join("%00")}%1e`,
      "refs/heads",
      "refs/tags",
      LABEL_NAMESPACE,
    ]),
    runGit(root, ["rev-parse", "--verify", "--quiet", "HEAD^{commit}"]).then(
      (sha) => sha.trim() || null,
      // Before the first commit HEAD names nothing.
      () => null,
    ),
  ]);
  const listing: RefListing = {
    head: { branch: null, commit: headCommit },
    branches: [],
    tags: [],
    labels: [],
  };
  for (const record of output.split("\x1e")) {
    const trimmed = record.replace(/^\n/, "");
    if (trimmed === "") continue;
    const [ref = "", object = "", peeled = "", date = "", peeledDate = "", subject = "", ...rest] =
      trimmed.split("\x00");
    const [peeledSubject = "", head = "", target = ""] = rest;
    // An annotated tag peels to its commit, whose date and subject are the ones that matter.
    const named = {
      commit: peeled || object,
      date: peeled ? peeledDate : date,
      subject: peeled ? peeledSubject : subject,
    };
    if (ref.startsWith("refs/heads/")) {
      const name = ref.slice("refs/heads/".length);
      listing.branches.push({ name, ...named });
      if (head === "*") listing.head.branch = name;
    } else if (ref.startsWith("refs/tags/")) {
      listing.tags.push({ name: ref.slice("refs/tags/".length), ...named });
    } else if (ref.startsWith(LABEL_NAMESPACE)) {
      listing.labels.push({
        name: ref.slice(LABEL_NAMESPACE.length),
        commit: target.trim() || object,
      });
    }
  }
  listing.tags.sort(
    (a, b) => Date.parse(b.date) - Date.parse(a.date) || (a.name < b.name ? -1 : 1),
  );
  return listing;
}
