// The network resource a plugin's outbound stream (fetch_stream, PROTOCOL.md section 18) reads
// in the conformance cases: served by the test harness, not by a plugin, at paths no plugin
// claims, on the browser host's own origin (where the service worker's fetch goes to the
// network) and reachable by the server host. It generates its bytes as it sends them and
// remembers how far each response got, so a case can tell a reader that stopped early.
//
//   GET /upstream/bytes?mib=N&id=ID   N MiB of the pattern byte k = k % 251, sent as the
//                                     client takes them (application/octet-stream); with
//                                     &mibps=R, no faster than R MiB a second
//   GET /upstream/report?id=ID        {"size", "sent", "ended"}: ended is 'open', 'complete'
//                                     or 'closed early' (the client closed the connection)

const MiB = 1024 * 1024;

/** 251 × 4096 bytes of the pattern: any run of it starting at a multiple of 251 is the pattern. */
const BLOCK = Uint8Array.from({ length: 251 * 4096 }, (_, k) => k % 251);

/** What each id's response did, for /upstream/report. */
const reports = new Map();

/** Writes `size` bytes of the pattern to `response` at the pace its client reads, and no
 * faster than `mibPerSecond` if given. */
async function sendPattern(response, size, report, mibPerSecond) {
  const started = Date.now();
  let closed = false;
  response.on('close', () => {
    closed = true;
    report.ended = response.writableFinished ? 'complete' : 'closed early';
  });
  while (report.sent < size && !closed) {
    const piece = BLOCK.subarray(0, Math.min(BLOCK.length, size - report.sent));
    report.sent += piece.length;
    if (!response.write(piece)) {
      await new Promise((resolve) => {
        const done = () => {
          response.off('drain', done).off('close', done);
          resolve();
        };
        response.on('drain', done).on('close', done);
      });
    }
    const due = mibPerSecond ? started + (report.sent / MiB / mibPerSecond) * 1000 : 0;
    if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
  }
  if (!closed) response.end();
}

/**
 * Answers `request` if it is one of the upstream's paths (then resolves true), else resolves
 * false for the caller to answer.
 */
export async function serveUpstream(request, response) {
  const url = new URL(request.url, 'http://x');
  const id = url.searchParams.get('id') ?? '';
  if (url.pathname === '/upstream/bytes') {
    const size = Math.round(Number(url.searchParams.get('mib') ?? 1) * MiB);
    const report = { size, sent: 0, ended: 'open' };
    reports.set(id, report);
    response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size });
    const mibPerSecond = Number(url.searchParams.get('mibps') ?? 0);
    await sendPattern(response, size, report, mibPerSecond);
    return true;
  }
  if (url.pathname === '/upstream/report') {
    const report = reports.get(id);
    response.writeHead(report ? 200 : 404, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    response.end(JSON.stringify(report ?? null));
    return true;
  }
  return false;
}
