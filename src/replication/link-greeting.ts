// The link's first words, in the clear before TLS: each end says which protocol it speaks and
// whether it runs TLS (--replica-tls). Nothing is negotiated: each end keeps its own setting,
// and a mismatch closes the link with a message at both ends that names the knob. Someone in
// the middle who rewrites these can make the link fail, never make it run without TLS.
//
// Strictly in turn, so that no TLS byte is ever mixed with them: the primary speaks, the
// secondary answers (or refuses with an ERROR: busy, an older primary), and only then does TLS
// start, the secondary as its server. After it the frames are numbered from 1 again.
//
//   primary                                secondary
//   LINK {protocol: 2, role, tls}  ---->   checks protocol and tls; answers either way
//                                  <----   LINK {protocol: 2, role, tls}
//   (tls "psk": the TLS-PSK handshake; then HELLO ... on the protected stream)

import { AuthenticationError, ProtocolError } from '../errors';
import type { ByteStream } from '../io/transport';
import { TLS_PSK_IDENTITY, type LinkKeys } from './auth';
import { encodeFrame, FrameReader, PREAUTH_PAYLOAD_MAX, type Frame } from './frame';
import { MSG, PROTOCOL_VERSION_JSON, decodeJson, encodeJson } from './messages';

export interface LinkSecurity {
  /** TLS-PSK on the link (--replica-tls on), or the frames in the clear (off). */
  tls: boolean;
  keys: LinkKeys;
}

type TlsSetting = 'psk' | 'off';

interface Greeting {
  protocol: number;
  role: string;
  tls: TlsSetting;
}

function setting(tls: boolean): TlsSetting {
  return tls ? 'psk' : 'off';
}

function knob(t: TlsSetting): string {
  return `--replica-tls ${t === 'psk' ? 'on' : 'off'}`;
}

function mismatch(peer: 'primary' | 'secondary', theirs: TlsSetting, mine: TlsSetting): AuthenticationError {
  const me = peer === 'primary' ? 'secondary' : 'primary';
  return new AuthenticationError(`the ${peer} runs with ${knob(theirs)} and this ${me} with ${knob(mine)}: give both ends the same setting (on, the default; off only for measurements)`, { peerTls: theirs, tls: mine });
}

/** A frame of the greeting (each side's first, so numbered 1). */
function sendFrame(stream: ByteStream, type: number, value: unknown): void {
  stream.write([encodeFrame(type, 1, encodeJson(value))]);
}

/** Tells the peer why and closes (used before any greeting went out). */
export function refuse(stream: ByteStream, code: string, message: string): void {
  sendFrame(stream, MSG.ERROR, { code, message });
  stream.end();
}

/** The peer's greeting: one frame, and nothing after it before our turn. A malformed one
 * rejects with the reason; the caller says it to the peer (or not) and closes. */
function readGreeting(stream: ByteStream, peer: string): Promise<Frame> {
  return new Promise<Frame>((resolve, reject) => {
    const reader = new FrameReader(PREAUTH_PAYLOAD_MAX);
    let done = false;
    const fail = (err: Error): void => {
      done = true;
      reject(err);
    };
    stream.attach({
      data: (d) => {
        if (done) return;
        let frames: Frame[];
        try {
          frames = reader.push(d);
        } catch (err) {
          fail(err as Error);
          return;
        }
        if (frames.length === 0) return;
        if (frames.length > 1 || reader.partialBytes > 0) return fail(new ProtocolError(`the ${peer} sent more than its greeting before its turn`));
        done = true;
        resolve(frames[0]);
      },
      drain: () => undefined,
      close: (reason) => {
        if (done) return;
        done = true;
        reject(new ProtocolError(`the ${peer} closed the connection during the greeting: ${reason}`));
      },
    });
  });
}

function decodeGreeting(f: Frame): Greeting {
  const g = decodeJson<Greeting>(f.payload, 'LINK', { protocol: 'number', role: 'string', tls: 'string' });
  if (g.tls !== 'psk' && g.tls !== 'off') throw new ProtocolError(`LINK: tls must be "psk" or "off", not "${String(g.tls)}"`);
  return g;
}

function errorText(f: Frame): string {
  try {
    return decodeJson<{ message: string }>(f.payload, 'ERROR', { message: 'string' }).message;
  } catch {
    return 'no reason given';
  }
}

async function startTls(stream: ByteStream, side: 'client' | 'server', sec: LinkSecurity): Promise<ByteStream> {
  try {
    return await stream.secure({ side, identity: TLS_PSK_IDENTITY, psk: sec.keys.psk });
  } catch (err) {
    const message = (err as Error).message;
    if (/handshake failed/.test(message)) throw new AuthenticationError(`authentication failed: ${message} (the TLS key is derived from replication.key: check --key-file on both ends)`);
    throw new ProtocolError(message);
  }
}

/** The primary's side: greets, checks the answer, starts TLS. Resolves with the stream the
 * link's frames run on. */
export async function greetAsPrimary(stream: ByteStream, sec: LinkSecurity): Promise<ByteStream> {
  const mine = setting(sec.tls);
  sendFrame(stream, MSG.LINK, { protocol: PROTOCOL_VERSION_JSON, role: 'primary', tls: mine });
  const f = await readGreeting(stream, 'secondary').catch((err: unknown) => {
    stream.destroy();
    throw err;
  });
  if (f.type === MSG.ERROR) {
    stream.end();
    throw new ProtocolError(`the secondary refused the connection: ${errorText(f)}`);
  }
  if (f.type !== MSG.LINK) {
    stream.destroy();
    throw new ProtocolError(`the secondary answered with message type ${f.type}, not LINK: it runs an older lsa-remote (replication protocol 1); upgrade it`);
  }
  const g = decodeGreeting(f);
  if (g.protocol !== PROTOCOL_VERSION_JSON) {
    stream.end();
    throw new ProtocolError(`the secondary speaks replication protocol ${g.protocol}, this primary ${PROTOCOL_VERSION_JSON}`);
  }
  if (g.tls !== mine) {
    stream.end();
    throw mismatch('secondary', g.tls, mine);
  }
  return sec.tls ? startTls(stream, 'client', sec) : stream;
}

/** The secondary's side: reads the greeting, answers it, starts TLS. */
export async function greetAsSecondary(stream: ByteStream, sec: LinkSecurity): Promise<ByteStream> {
  const mine = setting(sec.tls);
  const f = await readGreeting(stream, 'primary').catch((err: unknown) => {
    if (err instanceof ProtocolError) refuse(stream, err.code, err.message); // what was wrong
    else stream.destroy();
    throw err;
  });
  if (f.type !== MSG.LINK) {
    const why = f.type === MSG.HELLO
      ? 'the primary runs an older lsa-remote (replication protocol 1, no LINK greeting); upgrade it'
      : `expected LINK first, got message type ${f.type}`;
    refuse(stream, 'LSA_PROTOCOL', why);
    throw new ProtocolError(why);
  }
  const g = decodeGreeting(f);
  if (g.protocol !== PROTOCOL_VERSION_JSON || g.role !== 'primary') {
    const why = g.role !== 'primary' ? `LINK from a "${g.role}", not a primary` : `the primary speaks replication protocol ${g.protocol}, this secondary ${PROTOCOL_VERSION_JSON}`;
    refuse(stream, 'LSA_PROTOCOL', why);
    throw new ProtocolError(why);
  }
  sendFrame(stream, MSG.LINK, { protocol: PROTOCOL_VERSION_JSON, role: 'secondary', tls: mine });
  if (g.tls !== mine) {
    stream.end();
    throw mismatch('primary', g.tls, mine);
  }
  return sec.tls ? startTls(stream, 'server', sec) : stream;
}
