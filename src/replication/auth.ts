// Pre-shared key authentication, HMAC-SHA256 challenge-response in both directions: each side
// proves it holds the key by MACing both nonces and its role, so neither a recorded handshake
// nor a reflected proof works in another session.

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const NONCE_BYTES = 32;

/** A fresh nonce as hex; `random` is injected by simulations (default crypto.randomBytes). */
export function newNonce(random: (bytes: number) => Buffer = randomBytes): string {
  return random(NONCE_BYTES).toString('hex');
}

export function proof(key: Buffer, role: 'primary' | 'secondary', primaryNonce: string, secondaryNonce: string): string {
  return createHmac('sha256', key).update(`lsa-replication v1|${role}|${primaryNonce}|${secondaryNonce}`).digest('hex');
}

export function proofMatches(expected: string, got: unknown): boolean {
  if (typeof got !== 'string' || got.length !== expected.length) return false;
  return timingSafeEqual(Buffer.from(expected), Buffer.from(got));
}

export function validNonce(n: unknown): n is string {
  return typeof n === 'string' && /^[0-9a-f]{64}$/.test(n);
}
