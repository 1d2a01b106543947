// Visa's Message Level Encryption: a request body is {"encData": <JWE compact>} encrypted to the
// double's (Visa's) server key; a response body is the same, encrypted to the client's public key.
// JOSE header as Visa's samples write it: alg RSA-OAEP-256, enc A128GCM, kid the MLE key id, and
// iat in milliseconds. Built on `jose` (npm, pinned in package-lock.json).
//   mle = new Mle({keyId, serverPrivateKey, clientPublicKey})   (PEM text or Buffers)
//   await mle.decryptRequest(body Buffer, keyIdHeader) -> {json} or {error: reason}
//   await mle.encryptResponse(object) -> {encData}
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { CompactEncrypt, compactDecrypt } from 'jose';

const kAlg = 'RSA-OAEP-256';
const kEnc = 'A128GCM';
const kMillisecondsFloor = 1e12;  // an iat below this is in seconds, not Visa's milliseconds

export class Mle {
  constructor({ keyId, serverPrivateKey, clientPublicKey }) {
    this.keyId = keyId;
    this.serverPrivateKey = createPrivateKey(serverPrivateKey);
    this.clientPublicKey = createPublicKey(clientPublicKey);
  }

  async decryptRequest(body, keyIdHeader) {
    if (keyIdHeader !== this.keyId) return { error: 'keyId header missing or unknown' };
    let wrapper;
    try {
      wrapper = JSON.parse(body.toString('utf8'));
    } catch {
      return { error: 'body is not JSON' };
    }
    const keys = wrapper && typeof wrapper === 'object' ? Object.keys(wrapper) : [];
    if (keys.length !== 1 || keys[0] !== 'encData' || typeof wrapper.encData !== 'string') {
      return { error: 'body is not {"encData": <JWE>}' };
    }
    let result;
    try {
      result = await compactDecrypt(wrapper.encData, this.serverPrivateKey,
                                    { keyManagementAlgorithms: [kAlg], contentEncryptionAlgorithms: [kEnc] });
    } catch (e) {
      return { error: `JWE token format is invalid (${e.code ?? e.message})` };
    }
    const header = result.protectedHeader;
    if (header.kid !== this.keyId) return { error: 'kid of the JWE is not the MLE key id' };
    if (!Number.isSafeInteger(header.iat) || header.iat < kMillisecondsFloor) return { error: 'iat of the JWE is not in milliseconds' };
    try {
      return { json: JSON.parse(Buffer.from(result.plaintext).toString('utf8')) };
    } catch {
      return { error: 'decrypted payload is not JSON' };
    }
  }

  async encryptResponse(object) {
    const jwe = await new CompactEncrypt(Buffer.from(JSON.stringify(object)))
      .setProtectedHeader({ alg: kAlg, enc: kEnc, typ: 'JWE', kid: this.keyId, iat: Date.now() })
      .encrypt(this.clientPublicKey);
    return { encData: jwe };
  }
}
