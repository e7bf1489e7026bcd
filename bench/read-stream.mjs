// Reads the streaming benchmark's bytes (byte k is k % 251) from a server with Node's http
// client: what bench/server.mjs measures a streamed answer with.
import { Agent, get } from 'node:http';

/// An agent that keeps one connection open: every request given it goes over that connection.
export const oneConnection = () => new Agent({ keepAlive: true, maxSockets: 1 });

/// GETs `url` through `agent` and reads the answer to the end: resolves to the ms from the
/// request to its first bytes and to its end. Rejects on a status other than 200, a body cut
/// short, a length other than `bytes`, or a wrong byte (the first and last of each chunk read).
export function readStream(url, bytes, agent) {
  return new Promise((resolve, reject) => {
    const begun = performance.now();
    get(url, { agent }, (response) => {
      if (response.statusCode !== 200) {
        response.resume();
        return reject(new Error(`${url} answered ${response.statusCode}`));
      }
      let firstMs, offset = 0;
      response.on('data', (chunk) => {
        firstMs ??= performance.now() - begun;
        const last = offset + chunk.length - 1;
        if (chunk[0] !== offset % 251 || chunk[chunk.length - 1] !== last % 251) {
          response.destroy(new Error(`${url}: wrong bytes at ${offset} to ${last}`));
        }
        offset += chunk.length;
      });
      response.on('error', reject);
      response.on('end', () => {
        if (offset !== bytes) return reject(new Error(`${url}: ${offset} bytes, not ${bytes}`));
        resolve({ firstMs, ms: performance.now() - begun });
      });
      response.on('close', () => {
        if (!response.complete) reject(new Error(`${url}: the body was cut short at ${offset} bytes`));
      });
    }).on('error', reject);
  });
}
