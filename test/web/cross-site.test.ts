// What a page of another site, open in the user's browser, can make the browser do to a local
// `prompts serve`: nothing but follow a link to it. Real Chromium sends the real Fetch
// Metadata headers; the server's own log says what it answered.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { waitUntil } from "../helpers.js";
import { browserSession, HAS_CHROMIUM, PAGE_BUILT } from "./harness.js";
import { sampleRepo } from "./sample-repo.js";

const session = browserSession();
const others: Server[] = [];
afterEach(async () => {
  await Promise.all(others.splice(0).map((server) => new Promise((done) => server.close(done))));
});

/** Another site: `localhost` on another port is another origin and, to a browser, another site than 127.0.0.1. */
async function otherSite(target: string): Promise<string> {
  const page = `<!doctype html><title>other site</title>
<a id="go" href="${target}/prompts?q=caller">a link to the prompts</a>
<script>
  const target = ${JSON.stringify(target)};
  fetch(target + "/v1/diff?from=v1&to=v2", { mode: "no-cors" });
  fetch(target + "/v1/prompts/caller/render", { method: "POST", mode: "no-cors",
    headers: { "content-type": "text/plain" }, body: JSON.stringify({ variables: {} }) });
  new Image().src = target + "/v1/history/caller";
</script>`;
  const server = createServer((_request, response) => {
    response.writeHead(200, { "content-type": "text/html" }).end(page);
  });
  others.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://localhost:${(server.address() as AddressInfo).port}/`;
}

describe.skipIf(!HAS_CHROMIUM || !PAGE_BUILT)("another site's page", () => {
  it("gets 403 for every request it makes the browser send, while a link to the page opens it", async () => {
    const root = await sampleRepo();
    const lines: string[] = [];
    const { page, url } = await session.open(root, {
      verbose: true,
      log: (line) => lines.push(line),
    });
    await page.goto(await otherSite(url));
    const refused = await waitUntil("the three requests of the other site", () => {
      const answered = lines.filter((line) =>
        /\/v1\/(diff|prompts\/caller\/render|history\/caller)/.test(line),
      );
      return answered.length >= 3 && answered;
    });
    expect(refused.map((line) => line.split(" ").slice(0, 3).join(" ")).sort()).toEqual([
      "GET /v1/diff?from=v1&to=v2 403",
      "GET /v1/history/caller 403",
      "POST /v1/prompts/caller/render 403",
    ]);

    // The user's own click is a navigation: the page opens and reads its data as its own origin.
    await page.click("#go");
    await expect
      .poll(() => page.locator("table.prompts tbody tr").allInnerTexts())
      .toEqual([expect.stringContaining("caller")]);
    expect(lines.filter((line) => line.startsWith("GET /v1/prompts 200"))).not.toEqual([]);
  });
});
