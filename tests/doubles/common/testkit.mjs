// What the doubles' node:test files share: certificates from a throwaway CA made with openssl,
// starting a double as its own process, and one HTTPS request at a time.
//   const tls = makeTls(dir)  -> {dir, ca (PEM Buffer), path(name)}; writes ca.crt/ca.key and
//     server.crt/server.key (for 127.0.0.1) into dir
//   makeClientCert(tls, name, {cn, byOtherCa}) -> {cert, key} (PEM Buffers), signed by the CA, or
//     by a second CA the double does not trust
//   startDouble(script, args) -> {base: 'https://127.0.0.1:<port>', stop(signal = 'SIGTERM')}
//   https(base, method, path, {body, headers, timeoutMs, ca, cert, key})
//     -> {status, headers, text, json} or {error: code} when the connection fails or times out
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';

function openssl(dir, ...args) {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

function makeCa(dir, name) {
  openssl(dir, 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.crt`,
          '-days', '1', '-subj', `/CN=payoutd test ${name}`);
}

// A key and a certificate for `subject`, signed by the CA `caName`, with the extensions in `ext`.
function issue(dir, caName, name, subject, ext) {
  openssl(dir, 'req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject);
  writeFileSync(join(dir, `${name}.ext`), ext);
  openssl(dir, 'x509', '-req', '-in', `${name}.csr`, '-CA', `${caName}.crt`, '-CAkey', `${caName}.key`,
          '-CAcreateserial', '-out', `${name}.crt`, '-days', '1', '-extfile', `${name}.ext`);
}

export function makeTls(dir) {
  makeCa(dir, 'ca');
  issue(dir, 'ca', 'server', '/CN=127.0.0.1', 'subjectAltName=IP:127.0.0.1\n');
  return { dir, ca: readFileSync(join(dir, 'ca.crt')), path: (name) => join(dir, name) };
}

export function makeClientCert(tls, name, { cn = name, byOtherCa = false } = {}) {
  const caName = byOtherCa ? 'otherca' : 'ca';
  if (byOtherCa && !existsSync(join(tls.dir, 'otherca.crt'))) makeCa(tls.dir, 'otherca');
  issue(tls.dir, caName, name, `/CN=${cn}`, 'extendedKeyUsage=clientAuth\n');
  return { cert: readFileSync(join(tls.dir, `${name}.crt`)), key: readFileSync(join(tls.dir, `${name}.key`)) };
}

export async function startDouble(script, args) {
  const proc = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  proc.stderr.on('data', (d) => { log += d; });
  const base = await new Promise((ok, fail) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error(`the double did not start:\n${log}`)), 10000);
    proc.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (https:\/\/127\.0\.0\.1:\d+)/);
      if (m) { clearTimeout(timer); ok(m[1]); }
    });
    proc.on('exit', (code) => { clearTimeout(timer); fail(new Error(`the double exited ${code}:\n${log}`)); });
  });
  return {
    base,
    async stop(signal = 'SIGTERM') {
      const exited = new Promise((ok) => proc.on('exit', ok));
      proc.kill(signal);
      await exited;
    },
  };
}

export function https(base, method, path, { body = '', headers = {}, timeoutMs = 10000, ca, cert, key } = {}) {
  return new Promise((ok) => {
    const req = request(`${base}${path}`, { method, ca, cert, key, agent: false, headers: {
      Accept: 'application/json', ...(body ? { 'Content-Type': 'application/json' } : {}),
      'Content-Length': Buffer.byteLength(body), ...headers } }, (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => {
        let json = null;
        try { json = text ? JSON.parse(text) : null; } catch { json = undefined; }
        ok({ status: res.statusCode, headers: res.headers, text, json });
      });
      res.on('error', (e) => ok({ error: e.code }));
    });
    req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', (e) => ok({ error: e.code ?? e.message }));
    req.end(body);
  });
}
