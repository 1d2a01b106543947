// Visa Direct's credentials after the TLS handshake (which already required a client certificate
// signed by the configured CA): HTTP Basic with the project's user id and password, and, when
// configured, the subject of the client certificate issued for that project.
//   checkCredentials({authorization, peerCn}, {userId, password, clientCn}) -> null or
//     {code, message}: the refusal as the Visa Developer Platform answers it (HTTP 401)
import { timingSafeEqual } from 'node:crypto';

function same(a, b) {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function checkCredentials({ authorization, peerCn }, { userId, password, clientCn }) {
  const m = typeof authorization === 'string' && authorization.match(/^Basic ([A-Za-z0-9+/]+={0,2})$/);
  const pair = m ? Buffer.from(m[1], 'base64').toString('utf8') : '';
  const colon = pair.indexOf(':');
  // "Authorization Header missing … or in invalid format … or the userId or password fields are blank"
  if (colon <= 0 || colon === pair.length - 1) return { code: '9124', message: 'Expected input credential was not present' };
  if (!same(pair.slice(0, colon), userId) || !same(pair.slice(colon + 1), password)) {
    return { code: '9123', message: 'Invalid credentials' };
  }
  if (clientCn && peerCn !== clientCn) {
    return { code: '9125', message: 'Client certificate does not match the one issued for the credentials' };
  }
  return null;
}
