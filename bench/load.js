// A small HTTP load generator, run as its own process so it never shares an event loop with
// the server it measures: `node bench/load.js URL SECONDS CONCURRENCY [IF_NONE_MATCH]`.
// Prints {requests, seconds, perSecond, statuses} as JSON.
import http from "node:http";

const [url, secondsArg = "3", concurrencyArg = "32", etag] = process.argv.slice(2);
const seconds = Number(secondsArg);
const agent = new http.Agent({ keepAlive: true, maxSockets: Number(concurrencyArg) });
const headers = etag ? { "if-none-match": etag } : {};
const deadline = performance.now() + seconds * 1000;
const statuses = {};
let requests = 0;

function one() {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { agent, headers }, (response) => {
      statuses[response.statusCode] = (statuses[response.statusCode] ?? 0) + 1;
      response.on("data", () => {});
      response.on("end", resolve);
    });
    request.on("error", reject);
  });
}

async function worker() {
  while (performance.now() < deadline) {
    await one();
    requests++;
  }
}

const start = performance.now();
await Promise.all(Array.from({ length: Number(concurrencyArg) }, worker));
const elapsed = (performance.now() - start) / 1000;
agent.destroy();
console.log(
  JSON.stringify({ requests, seconds: elapsed, perSecond: requests / elapsed, statuses }),
);
