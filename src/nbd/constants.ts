// NBD protocol numbers (fixed newstyle handshake, simple and structured replies) and the
// limits this server enforces. All integers on the wire are big-endian.
//
// Handshake (server greeting, then option haggling):
//   S: u64 NBDMAGIC | u64 IHAVEOPT | u16 handshake flags
//   C: u32 client flags
//   C: u64 IHAVEOPT | u32 option | u32 length | length bytes of option data   (repeated)
//   S: u64 OPTION_REPLY_MAGIC | u32 option | u32 reply type | u32 length | data (per reply)
//   after NBD_OPT_EXPORT_NAME instead: S: u64 size | u16 transmission flags | [124 zero bytes]
//
// Transmission:
//   request      (28 bytes) u32 REQUEST_MAGIC | u16 command flags | u16 type | u64 handle |
//                           u64 offset | u32 length | [length bytes of payload for WRITE]
//   simple reply (16 bytes) u32 SIMPLE_REPLY_MAGIC | u32 errno | u64 handle | [data for READ]
//   structured   (20 bytes) u32 STRUCTURED_REPLY_MAGIC | u16 flags | u16 type | u64 handle |
//                           u32 length | length bytes of payload
//
// | option                 | this server                                                     |
// | ---------------------- | --------------------------------------------------------------- |
// | EXPORT_NAME (1)        | enters transmission; unknown export closes the connection       |
// | ABORT (2)              | ACK, then close                                                  |
// | LIST (3)               | one SERVER reply per volume, then ACK                            |
// | INFO (6) / GO (7)      | INFO_EXPORT, INFO_BLOCK_SIZE, INFO_NAME/DESCRIPTION if asked     |
// | STRUCTURED_REPLY (8)   | ACK                                                              |
// | LIST/SET_META_CONTEXT  | base:allocation only                                             |
// | anything else          | ERR_UNSUP                                                        |
//
// | command           | flags accepted      | payload in | reply                              |
// | ----------------- | ------------------- | ---------- | ---------------------------------- |
// | READ (0)          | FUA, DF (structured)| -          | data (simple) or one OFFSET_DATA   |
// | WRITE (1)         | FUA                 | length     | none                               |
// | DISC (2)          | FUA                 | -          | none; the connection closes        |
// | FLUSH (3)         | FUA                 | -          | none                               |
// | TRIM (4)          | FUA                 | -          | none                               |
// | WRITE_ZEROES (6)  | FUA, NO_HOLE        | -          | none                               |
// | BLOCK_STATUS (7)  | FUA, REQ_ONE        | -          | one BLOCK_STATUS chunk             |

// ---- magic numbers ----
export const NBDMAGIC = 0x4e42444d41474943n; // "NBDMAGIC"
export const IHAVEOPT = 0x49484156454f5054n; // "IHAVEOPT"
export const OPTION_REPLY_MAGIC = 0x3e889045565a9n;
export const REQUEST_MAGIC = 0x25609513;
export const SIMPLE_REPLY_MAGIC = 0x67446698;
export const STRUCTURED_REPLY_MAGIC = 0x668e33ef;

// ---- handshake flags (server, u16) and client flags (u32) ----
export const FLAG_FIXED_NEWSTYLE = 1 << 0;
export const FLAG_NO_ZEROES = 1 << 1;
export const FLAG_C_FIXED_NEWSTYLE = 1 << 0;
export const FLAG_C_NO_ZEROES = 1 << 1;
export const CLIENT_FLAGS_KNOWN = FLAG_C_FIXED_NEWSTYLE | FLAG_C_NO_ZEROES;

// ---- transmission flags (u16) ----
export const TFLAG_HAS_FLAGS = 1 << 0;
export const TFLAG_READ_ONLY = 1 << 1;
export const TFLAG_SEND_FLUSH = 1 << 2;
export const TFLAG_SEND_FUA = 1 << 3;
export const TFLAG_SEND_TRIM = 1 << 5;
export const TFLAG_SEND_WRITE_ZEROES = 1 << 6;
export const TFLAG_SEND_DF = 1 << 7;
export const TFLAG_CAN_MULTI_CONN = 1 << 8;

// ---- options ----
export const OPT_EXPORT_NAME = 1;
export const OPT_ABORT = 2;
export const OPT_LIST = 3;
export const OPT_STARTTLS = 5;
export const OPT_INFO = 6;
export const OPT_GO = 7;
export const OPT_STRUCTURED_REPLY = 8;
export const OPT_LIST_META_CONTEXT = 9;
export const OPT_SET_META_CONTEXT = 10;

// ---- option reply types ----
export const REP_ACK = 1;
export const REP_SERVER = 2;
export const REP_INFO = 3;
export const REP_META_CONTEXT = 4;
const REP_ERR = 0x80000000;
export const REP_ERR_UNSUP = REP_ERR + 1;
export const REP_ERR_POLICY = REP_ERR + 2;
export const REP_ERR_INVALID = REP_ERR + 3;
export const REP_ERR_UNKNOWN = REP_ERR + 6;
export const REP_ERR_SHUTDOWN = REP_ERR + 7;
export const REP_ERR_TOO_BIG = REP_ERR + 9;

// ---- NBD_REP_INFO types ----
export const INFO_EXPORT = 0;
export const INFO_NAME = 1;
export const INFO_DESCRIPTION = 2;
export const INFO_BLOCK_SIZE = 3;

// ---- commands and command flags ----
export const CMD_READ = 0;
export const CMD_WRITE = 1;
export const CMD_DISC = 2;
export const CMD_FLUSH = 3;
export const CMD_TRIM = 4;
export const CMD_WRITE_ZEROES = 6;
export const CMD_BLOCK_STATUS = 7;

export const CMD_FLAG_FUA = 1 << 0;
export const CMD_FLAG_NO_HOLE = 1 << 1;
export const CMD_FLAG_DF = 1 << 2;
export const CMD_FLAG_REQ_ONE = 1 << 3;

// ---- structured replies ----
export const REPLY_FLAG_DONE = 1 << 0;
export const REPLY_TYPE_NONE = 0;
export const REPLY_TYPE_OFFSET_DATA = 1;
export const REPLY_TYPE_BLOCK_STATUS = 5;
export const REPLY_TYPE_ERROR = (1 << 15) + 1;

// ---- base:allocation ----
export const META_BASE_ALLOCATION = 'base:allocation';
/** The id this server gives base:allocation when a client selects it. */
export const META_BASE_ALLOCATION_ID = 1;
export const STATE_HOLE = 1 << 0;
export const STATE_ZERO = 1 << 1;

// ---- errno values on the wire (the protocol fixes these numbers) ----
export const NBD_EPERM = 1;
export const NBD_EIO = 5;
export const NBD_ENOMEM = 12;
export const NBD_EINVAL = 22;
export const NBD_ENOSPC = 28;
export const NBD_EOVERFLOW = 75;
export const NBD_ESHUTDOWN = 108;

// ---- sizes on the wire ----
export const REQUEST_HEADER_BYTES = 28;
export const OPTION_HEADER_BYTES = 16;
export const SIMPLE_REPLY_BYTES = 16;
export const STRUCTURED_HEADER_BYTES = 20;
/** Strings (export names, queries) may be at most this long (the protocol's limit). */
export const STRING_BYTES_MAX = 4096;

// ---- limits of this server (bounded memory per connection) ----
/** Largest READ or WRITE payload; advertised as the maximum block size. */
export const PAYLOAD_BYTES_MAX = 32 * 1024 * 1024;
/** Largest option data we hold in memory; longer options are read past and refused. */
export const OPTION_BYTES_MAX = 64 * 1024;
/** Options one connection may send before it must pick an export. */
export const OPTIONS_PER_CONNECTION_MAX = 1024;
/** Meta context queries in one option. */
export const META_QUERIES_MAX = 128;
/** Requests of one connection being served at once (read but not yet answered). */
export const REQUESTS_IN_FLIGHT_MAX = 128;
/** Payload bytes (write data in, read data out) of one connection held at once; one request
 * may always run alone even if it is bigger. */
export const IN_FLIGHT_BYTES_MAX = 64 * 1024 * 1024;
/** Bytes read ahead from a client's socket before we stop reading it. */
export const READ_AHEAD_BYTES_MAX = 1024 * 1024;
/** A BLOCK_STATUS reply covers at most this many bytes ... */
export const BLOCK_STATUS_SCAN_BYTES_MAX = 256 * 1024 * 1024;
/** ... and at most this many descriptors. */
export const BLOCK_STATUS_EXTENTS_MAX = 16384;
/** Clients connected at once (in handshake or transmission); more are closed at once. */
export const CONNECTIONS_MAX = 256;
/** Time allowed from connect to the end of option haggling. */
export const HANDSHAKE_TIMEOUT_MS = 60_000;
/** Time allowed for the rest of a request (header remainder, write payload) once it began. */
export const REQUEST_BODY_TIMEOUT_MS = 60_000;
/** On shutdown, how long to wait for in-flight requests and their replies. */
export const SHUTDOWN_GRACE_MS = 30_000;
/** Errors logged per connection; the rest are counted and summed up when it closes. */
export const LOGGED_ERRORS_PER_CONNECTION_MAX = 20;
