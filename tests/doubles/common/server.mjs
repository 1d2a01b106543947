// What every network double shares as a process: its command line, its TLS server and lifecycle,
// and the small HTTP chores (a bounded body, a JSON answer, an abortive close, an answer delay).
//   parseOptions(specific, required) -> options: the common ones (below) and `specific`
//     (parseArgs option specs); throws when a name in `required` is missing
//   Common options: --port (0: any free port) --host (127.0.0.1) --cert --key --state-dir
//     --cards FILE --latency-ms N (added before every answer but the /_double/ endpoints)
//     --no-fsync (benchmarks only: the record is written but not fsync'd, so the double's own
//     disk does not bound a benchmark of payoutd)
//   serve({name, tls, opts, handle, onStop, internalError}) starts the HTTPS server (TLS 1.2+,
//     `tls` adds to node:https's options). handle(req, res) is async; a throw is logged and
//     answered by internalError(res) (in the network's own 500 format) when nothing was sent. Prints
//     "listening on https://<host>:<port>" when it accepts connections; exits 0 on SIGTERM/SIGINT.
//   readBody(req, limitBytes) -> Buffer (rejects past the limit)
//   sendJson(res, status, body, headers) / resetConnection(socket) / sleep(ms)
import { createServer } from 'node:https';
import { parseArgs } from 'node:util';

export const kBodyLimitBytes = 64 * 1024;

export function parseOptions(specific, required) {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '0' },
      host: { type: 'string', default: '127.0.0.1' },
      cert: { type: 'string' }, key: { type: 'string' }, 'state-dir': { type: 'string' },
      cards: { type: 'string' },
      'latency-ms': { type: 'string', default: '0' },
      'no-fsync': { type: 'boolean', default: false },
      ...specific,
    },
  });
  for (const name of ['cert', 'key', 'state-dir', 'cards', ...required]) {
    if (!values[name]) throw new Error(`--${name} is required`);
  }
  if (!/^[0-9]{1,6}$/.test(values['latency-ms'])) throw new Error('--latency-ms is a whole number of milliseconds');
  values.latencyMs = Number(values['latency-ms']);
  return values;
}

export function sleep(ms) {
  return new Promise((ok) => setTimeout(ok, ms));
}

export function sendJson(res, status, body, headers = {}) {
  if (res.destroyed) return;
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

// An abortive close (TCP RST), so the client sees a reset rather than an orderly end.
export function resetConnection(socket) {
  try {
    socket.resetAndDestroy();
  } catch {
    socket.destroy();
  }
}

export function readBody(req, limitBytes = kBodyLimitBytes) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > limitBytes) {
        reject(new Error('body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export function serve({ name, tls, opts, handle, onStop, internalError }) {
  const server = createServer({ minVersion: 'TLSv1.2', ...tls }, (req, res) => {
    handle(req, res).catch((e) => {
      process.stderr.write(`${name}: ${e.stack}\n`);
      if (!res.headersSent) internalError(res);
    });
  });
  server.listen(Number(opts.port), opts.host, () => {
    process.stdout.write(`listening on https://${opts.host}:${server.address().port}\n`);
  });
  const stop = () => {
    server.close();
    onStop();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  return server;
}
