// Verifies Mastercard's one-legged OAuth 1.0a on a received request, as Mastercard's gateway does:
// the Authorization header parsed strictly, the body hash, the clock, the nonce, and the RSA-SHA256
// signature over the signature base string. The base string is built with Mastercard's own
// package (mastercard-oauth1-signer), so the double checks what Mastercard's reference builds,
// not what our connector assumes.
//   verifier = new OAuthVerifier({consumerKey, publicKey, skewSeconds, now})
//   verifier.verify({method, uri, authorization, body}) -> null when valid, else a reason string
// `uri` is the absolute URL the client called (scheme, Host header, path and query exactly as
// received); `body` the exact bytes received (a Buffer).
import { createRequire } from 'node:module';
import { createPublicKey, verify as verifySignature } from 'node:crypto';

const require = createRequire(import.meta.url);
const OAuth = require('mastercard-oauth1-signer');

// Every parameter Mastercard's signers write; nothing else is accepted in the header.
const kRequired = ['oauth_body_hash', 'oauth_consumer_key', 'oauth_nonce', 'oauth_signature',
                   'oauth_signature_method', 'oauth_timestamp', 'oauth_version'];
const kBase64 = /^[A-Za-z0-9+/]+={0,2}$/;
const kNonce = /^[A-Za-z0-9]{8,64}$/;  // the Node signer writes 8, the Java signer 16
const kHeaderLimit = 4096;

// 'OAuth k="v",k="v"' into a Map, or a reason string. Signers write no space after the comma;
// RFC 5849 §3.5.1 allows linear whitespace there, so it is accepted.
export function parseAuthorization(header) {
  if (typeof header !== 'string' || header.length === 0) return 'no Authorization header';
  if (header.length > kHeaderLimit) return 'Authorization header too long';
  if (!header.startsWith('OAuth ')) return 'Authorization is not an OAuth header';
  const params = new Map();
  for (const part of header.slice(6).split(',')) {
    const m = part.trim().match(/^([a-z_]+)="([^"]*)"$/);
    if (!m) return `malformed OAuth parameter: ${part.trim().slice(0, 40)}`;
    if (params.has(m[1])) return `repeated OAuth parameter ${m[1]}`;
    if (!kRequired.includes(m[1])) return `unknown OAuth parameter ${m[1]}`;
    params.set(m[1], m[2]);
  }
  for (const name of kRequired) {
    if (!params.has(name)) return `missing OAuth parameter ${name}`;
  }
  return params;
}

export class OAuthVerifier {
  constructor({ consumerKey, publicKey, skewSeconds = 300, now = () => Date.now() }) {
    this.consumerKey = consumerKey;
    this.publicKey = createPublicKey(publicKey);
    this.skewSeconds = skewSeconds;
    this.now = now;
    this.nonces = new Map();  // nonce -> unix seconds after which it may be forgotten
  }

  verify({ method, uri, authorization, body }) {
    const params = parseAuthorization(authorization);
    if (typeof params === 'string') return params;
    const reason = this.checkParams(params, body);
    if (reason) return reason;
    if (!this.checkSignature(method, uri, params)) return 'signature verification failed';
    // The nonce is spent only by a request that passed every other check, so a forged request
    // cannot burn a nonce the real client is about to use.
    this.spendNonce(params.get('oauth_nonce'));
    return null;
  }

  checkParams(params, body) {
    if (params.get('oauth_signature_method') !== 'RSA-SHA256') return 'oauth_signature_method is not RSA-SHA256';
    if (params.get('oauth_version') !== '1.0') return 'oauth_version is not 1.0';
    if (params.get('oauth_consumer_key') !== this.consumerKey) return 'unknown oauth_consumer_key';
    const timestamp = params.get('oauth_timestamp');
    if (!/^[0-9]{1,12}$/.test(timestamp)) return 'malformed oauth_timestamp';
    const nowSeconds = Math.floor(this.now() / 1000);
    if (Math.abs(nowSeconds - Number(timestamp)) > this.skewSeconds) return 'oauth_timestamp outside the allowed window';
    const nonce = params.get('oauth_nonce');
    if (!kNonce.test(nonce)) return 'malformed oauth_nonce';
    if ((this.nonces.get(nonce) ?? 0) > nowSeconds) return 'oauth_nonce already used';
    const bodyHash = params.get('oauth_body_hash');
    if (!kBase64.test(bodyHash)) return 'malformed oauth_body_hash';
    // getBodyHash hashes a Buffer's bytes as they are: the hash covers exactly what arrived.
    if (bodyHash !== OAuth.getBodyHash(body)) return 'oauth_body_hash does not match the body';
    return null;
  }

  checkSignature(method, uri, params) {
    let signature;
    try {
      signature = decodeURIComponent(params.get('oauth_signature'));
    } catch {
      return false;
    }
    if (!kBase64.test(signature)) return false;
    const signed = new Map([...params].filter(([name]) => name !== 'oauth_signature'));
    const paramString = OAuth.toOAuthParamString(OAuth.extractQueryParams(uri), signed);
    const sbs = OAuth.getSignatureBaseString(method, OAuth.getBaseUriString(uri), paramString);
    return verifySignature('RSA-SHA256', Buffer.from(sbs), this.publicKey,
                           Buffer.from(signature, 'base64'));
  }

  spendNonce(nonce) {
    const nowSeconds = Math.floor(this.now() / 1000);
    for (const [old, until] of this.nonces) {
      if (until <= nowSeconds) this.nonces.delete(old);
    }
    // A timestamp may be up to skewSeconds in the future, so remember the nonce for both halves.
    this.nonces.set(nonce, nowSeconds + 2 * this.skewSeconds + 1);
  }
}
