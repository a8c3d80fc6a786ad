// The floor for GET /v1/bundle: a bare node:http server answering with the same bytes and the
// same headers (ETag, 304 on If-None-Match). `node bench/bare-server.js BUNDLE_FILE` prints its URL.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import http from "node:http";

const body = readFileSync(process.argv[2]);
const etag = `"${JSON.parse(body.toString()).hash ?? createHash("sha256").update(body).digest("hex")}"`;
const server = http.createServer((request, response) => {
  response.setHeader("etag", etag);
  response.setHeader("cache-control", "no-cache");
  response.setHeader("vary", "accept-encoding");
  if (request.headers["if-none-match"] === etag) {
    response.writeHead(304).end();
    return;
  }
  response.writeHead(200, {
    "content-type": "application/json; charset=utf-8",
    "content-length": body.length,
  });
  response.end(body);
});
server.keepAliveTimeout = 5_000;
server.listen(0, "127.0.0.1", () => console.log(`http://127.0.0.1:${server.address().port}`));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
