// The replication key and what is derived from it. Neither the TLS PSK nor the handshake's
// MAC key is the raw key: each is HKDF-SHA256 of it with its own fixed label, so the two uses
// never share a key (and a leak of one tells nothing of the other or of the file).
//
// The handshake proves, in both directions, that each end holds the key: an HMAC-SHA256 of
// both nonces, the prover's role and the TLS session's channel binding (exported keying
// material; empty with --replica-tls off). Both nonces: a recorded handshake does not work
// again. The role: a proof cannot be reflected back. The binding: a proof made in one TLS
// session does not work in another, so a relay that ends TLS on each side cannot pass it on.
// The primary proves first; the secondary proves itself only to a primary that did.

import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

export const NONCE_BYTES = 32;
/** The identity the primary names in the TLS-PSK handshake (the secondary accepts no other). */
export const TLS_PSK_IDENTITY = 'lsa-replication';
const PSK_LABEL = 'lsa-replication v2 tls-psk';
const MAC_LABEL = 'lsa-replication v2 handshake-mac';
const PROOF_PREFIX = 'lsa-replication v2';

export interface LinkKeys {
  /** The TLS pre-shared key. */
  psk: Buffer;
  /** The key of the handshake's proofs. */
  macKey: Buffer;
}

function derive(key: Buffer, label: string): Buffer {
  return Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), label, 32));
}

export function linkKeys(key: Buffer): LinkKeys {
  return { psk: derive(key, PSK_LABEL), macKey: derive(key, MAC_LABEL) };
}

/** A fresh nonce as hex; `random` is injected by simulations (default crypto.randomBytes). */
export function newNonce(random: (bytes: number) => Buffer = randomBytes): string {
  return random(NONCE_BYTES).toString('hex');
}

export function proof(macKey: Buffer, role: 'primary' | 'secondary', primaryNonce: string, secondaryNonce: string, binding: Buffer): string {
  return createHmac('sha256', macKey).update(`${PROOF_PREFIX}|${role}|${primaryNonce}|${secondaryNonce}|${binding.toString('hex')}`).digest('hex');
}

export function proofMatches(expected: string, got: unknown): boolean {
  if (typeof got !== 'string' || got.length !== expected.length) return false;
  return timingSafeEqual(Buffer.from(expected), Buffer.from(got));
}

export function validNonce(n: unknown): n is string {
  return typeof n === 'string' && /^[0-9a-f]{64}$/.test(n);
}
