// What every page shares: the header and its navigation, the live status, the banner while the
// tree on disk is invalid, and the token form when the server asks for one.
import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { useLocation } from "preact-iso";
import { provideToken, tokenWanted } from "./api.js";
import { issueLine } from "./components/file-problems.js";
import { live } from "./live.js";
import { useStore } from "./store.js";

const SECTIONS: { href: string; label: string; matches: (path: string) => boolean }[] = [
  {
    href: "/prompts",
    label: "Prompts",
    matches: (p) => p === "/" || /^\/(prompts|history|playground)(\/|$)/.test(p),
  },
  { href: "/diff", label: "Diff", matches: (p) => p === "/diff" },
  { href: "/environments", label: "Environments", matches: (p) => p === "/environments" },
  { href: "/experiments", label: "Experiments", matches: (p) => p.startsWith("/experiments") },
];

export function Layout({ children }: { children: ComponentChildren }) {
  const { path } = useLocation();
  const wanted = useStore(tokenWanted);
  const state = useStore(live);
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href="/prompts">
          prompts
        </a>
        <nav aria-label="Sections">
          {SECTIONS.map((section) => (
            <a
              key={section.href}
              href={section.href}
              aria-current={section.matches(path) ? "page" : undefined}
            >
              {section.label}
            </a>
          ))}
        </nav>
        <span
          class={`live ${state.connected ? "on" : "off"}`}
          role="status"
          title={state.hash === null ? "" : `bundle ${state.hash}`}
        >
          {state.connected ? "live" : "reconnecting…"}
        </span>
      </header>
      {state.invalid && <InvalidBanner invalid={state.invalid} hash={state.hash} />}
      <main id="main" tabIndex={-1}>
        {wanted ? <TokenForm rejected={wanted.rejected} /> : children}
      </main>
    </>
  );
}

function InvalidBanner({
  invalid,
  hash,
}: {
  invalid: NonNullable<ReturnType<typeof live.get>["invalid"]>;
  hash: string | null;
}) {
  const errors = invalid.errors.filter((issue) => issue.severity === "error");
  const first = errors[0];
  return (
    <div class="banner" role="alert">
      <strong>The prompts on disk are invalid</strong>
      {errors.length > 0 ? ` (${errors.length} error${errors.length === 1 ? "" : "s"})` : ""}:{" "}
      {first ? issueLine(first) : invalid.message}. Serving the last good bundle
      {hash === null ? "" : ` (${hash.slice(0, 12)})`} until they are fixed.
    </div>
  );
}

function TokenForm({ rejected }: { rejected: boolean }) {
  const [token, setToken] = useState("");
  return (
    <form
      class="token-form"
      onSubmit={(event) => {
        event.preventDefault();
        if (token.trim() !== "") provideToken(token.trim());
      }}
    >
      <h1>This server needs a token</h1>
      <p>
        It was started with <code>--token</code> or <code>PROMPTS_TOKEN</code>. The page keeps the
        token for this tab only and sends it to this server alone.
      </p>
      {rejected && (
        <p class="error" role="alert">
          That token was refused. Check it and try again.
        </p>
      )}
      <label for="token">Token</label>
      <input
        id="token"
        type="password"
        autoComplete="off"
        value={token}
        onInput={(event) => setToken(event.currentTarget.value)}
        autoFocus
      />
      <button type="submit">Open</button>
    </form>
  );
}
