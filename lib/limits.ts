// Every size and count limit, named once: the sending side and the receiving side read the
// same numbers, so what we send is always what we accept.

/** Raw file bytes per chunk: base64 makes it 20,000 characters, and the two NIP-44 layers
 *  keep the whole gift wrap near 48 KB, under the 64 KiB event cap of common relays. */
export const CHUNK_BYTES = 15_000
/** The largest file `sendfile` takes and a peer may announce. */
export const MAX_FILE_BYTES = 10 * 1024 * 1024
export const MAX_FILE_CHUNKS = Math.ceil(MAX_FILE_BYTES / CHUNK_BYTES)
/** What `sendfile -` reads from stdin at most: the base64 of the largest file, with room for
 *  line breaks every 76 characters (`base64`'s default). */
export const MAX_STDIN_BASE64 = Math.ceil((Math.ceil(MAX_FILE_BYTES / 3) * 4 * 77) / 76) + 1_024
/** A chunk's data tag: CHUNK_BYTES in base64. */
export const MAX_CHUNK_BASE64 = Math.ceil(CHUNK_BYTES / 3) * 4
/** A file name, in UTF-8 bytes (file systems take 255, and a received file may get its id in
 *  front); names are also checked for path separators and controls. */
export const MAX_FILE_NAME_BYTES = 200
/** Files of one name in one call's folder, at most (a received file never replaces another). */
export const MAX_SAME_NAME = 100

/** The largest message `send` takes (UTF-8 bytes); above it, `sendfile`. Plain text fits one
 *  wrap with room to spare; text that JSON escaping grows must also pass MAX_EVENT_BYTES. */
export const MAX_MESSAGE_BYTES = 16_000
/** The largest event (serialised JSON) common relays take: strfry's default `maxEventSize`. A
 *  gift wrap must fit, measured as it goes on the wire. */
export const MAX_EVENT_BYTES = 65_536
/** A call's topic, in characters. */
export const MAX_TOPIC = 300
/** The reason given with a rejection or an escalation, in characters. */
export const MAX_REASON = 2_000
/** A note to the owner (`notify`), in characters: a result or a summary, read on a phone. */
export const MAX_NOTE = 4_000

/** What an agent says about itself, in characters (config and peers' announcements alike). */
export const MAX_NAME = 64
export const MAX_ABOUT = 500
export const MAX_VERSION = 20
/** What an agent says it does (`capabilities`): this many entries at most, each at most
 *  MAX_CAPABILITY characters (config and peers' announcements alike). */
export const MAX_CAPABILITIES = 20
export const MAX_CAPABILITY = 40

/** The JSON of a kind 4 event around its content, as relays measure it: a 10-digit created_at,
 *  kind 4, one p tag, and the hex of its id, pubkey (64 each) and sig (128). */
const KIND4_FRAME_BYTES = JSON.stringify({
  content: '',
  created_at: 9_999_999_999,
  id: '0'.repeat(64),
  kind: 4,
  pubkey: '0'.repeat(64),
  sig: '0'.repeat(128),
  tags: [['p', '0'.repeat(64)]],
}).length
/** NIP-04's "?iv=" and the 16-byte IV in base64, after the ciphertext. */
const NIP04_IV_CHARS = '?iv='.length + 24
/** The most plaintext (UTF-8 bytes) one NIP-04 event of MAX_EVENT_BYTES carries: its content is
 *  the base64 of AES-CBC's whole 16-byte blocks, which always add a byte of padding at least. */
export const MAX_NIP04_PLAINTEXT = Math.floor((Math.floor((MAX_EVENT_BYTES - KIND4_FRAME_BYTES - NIP04_IV_CHARS) / 4) * 3) / 16) * 16 - 1
/** The largest file an agent of the original skill can get to us: its `room_file` holds the file
 *  whole, as base64, in one such DM (the JSON around it left aside: nothing larger can fit). */
export const MAX_LEGACY_FILE_IN = Math.floor(MAX_NIP04_PLAINTEXT / 4) * 3
/** Our `room_file` around the file's base64, at most: its keys, roomId and mimeType (157
 *  characters), the file name, and our name twice (sender, origin) in up to 3 UTF-8 bytes a
 *  character. */
const LEGACY_FILE_FRAME = 157 + MAX_FILE_NAME_BYTES + 2 * 3 * MAX_NAME
/** The largest file `sendfile` sends to an agent of the original skill: one DM of at most
 *  MAX_EVENT_BYTES carries it with any names (the event is measured again before it goes). */
export const MAX_LEGACY_FILE_BYTES = Math.floor((MAX_NIP04_PLAINTEXT - LEGACY_FILE_FRAME) / 4) * 3

/** Finished calls the state remembers (their headers; messages live in the call logs); beyond
 *  this many the oldest are dropped, and their transcripts stay on disk. */
export const MAX_FINISHED_CALLS = 1_000
/** Finished incoming calls that were never answered (declined or expired: any key can make
 *  them), remembered apart from the others, so that a flood of callers cannot evict real history. */
export const MAX_UNANSWERED_CALLS = 100
/** Incoming calls waiting for an answer at once; beyond, requests are declined as busy (each
 *  waiting call is a record any key can make, and `answer` reads them all). */
export const MAX_WAITING_CALLS = 50
/** Events kept for `poll` and `status`, newest last (unprinted ones are kept beyond it, but
 *  not strangers' messages: those beyond it are dropped, and counted). Tests shrink it through
 *  P2P_TEST_MAX_JOURNAL, so that a few dozen messages show what a flood of thousands does. */
export const MAX_JOURNAL = testOverride('P2P_TEST_MAX_JOURNAL', 1_000)
/** Unprinted events kept at most, when nobody polls through a flood. */
export const MAX_UNPRINTED = 10_000
/** The journal's size in the state file, at most (serialised): a flood of long messages cannot
 *  make every run parse megabytes. Printed events go first, then strangers' messages. */
export const MAX_JOURNAL_BYTES = 4 * 1024 * 1024
export const MAX_ESCALATIONS = 100
/** The owner's messages that `share` can show, and the escalations kept whole to show with
 *  them: the newest of each. */
export const MAX_SHAREABLE = 20
/** A hook killed or timed out is run again for its event by the next poll, this many times in
 *  all: one that never ends must not cost every later poll its timeout. */
export const MAX_HOOK_ATTEMPTS = 3
/** Calls one agent may hold at once (`config set maxCalls`; 1 by default): each active call is
 *  synced, journalled and written on every run. */
export const MAX_CALLS = 20
/** Ends that came before their requests, remembered at most. */
export const MAX_EARLY_ENDS = 1_000
/** Keys `allow` and `block` hold, each at most. */
export const MAX_ALLOWED = 10_000
export const MAX_BLOCKED = 10_000
/** Callers refused by policy whose last automatic answer is remembered (once a day each); a
 *  flood of more new keys in a day goes unanswered rather than growing the state. */
export const MAX_POLICY_REPLIES = 1_000
/** A flood of gift wraps cannot grow the state past this many remembered ids (oldest go first). */
export const MAX_SEEN = 100_000
/** Gift wraps read by REQ beside each NIP-77 reconciliation, newest first: the answer must
 *  account for every one (a relay whose NIP-77 hides what its REQs serve is read page by page).
 *  A few KB a run; more would cost quiet polls, fewer would miss a relay that holds one. */
export const CROSS_CHECK_WRAPS = 3

/** Search tags on our announcement (`t`, one lower-case token each: the name and capabilities,
 *  whole and in words), and the longest token: relays index them, so `list --find` and
 *  `call <name>` ask for matches instead of reading everyone. */
export const MAX_SEARCH_TAGS = 24
export const MAX_SEARCH_TOKEN = MAX_CAPABILITY
/** `list` shows this many agents by default (the most recently seen; `--max` changes it) and
 *  says how many more it saw. */
export const LIST_SHOWN = 50
/** `list --find` also reads this many of the newest announcements, when no earlier run saw any
 *  online, to match agents whose announcement has no search tags (the original skill's) by their
 *  content. */
export const FIND_CROWD_LIMIT = 20
/** Agents remembered at most (the most recently seen): announcements cost a stranger nothing,
 *  and every run parses the state. A run that reads the crowd counts what it read besides. */
export const MAX_AGENTS = 500
/** Pages of everyone's announcements read per run and relay (PAGE_LIMIT each), at most: `list`
 *  reads as many as it shows (`--max`; one by default), `status` one; a flood of more costs no more. */
export const MAX_PRESENCE_PAGES = 4
/** Agents we were in calls with whose announcements are asked for by key. */
export const MAX_KNOWN_PEERS = 100
/** Relays taken from a peer's relay list. */
export const MAX_PEER_RELAYS = 8
/** Of those, an automatic reply to a key we never called goes to this many at most: a stranger's
 *  list must not make every refusal open many connections. */
export const MAX_STRANGER_RELAYS = 3
/** Automatic replies in flight at once, within their budget (timing.ts AUTO_REPLY_MS): a few
 *  callers are answered together, a flood of them does not start hundreds of lookups. */
export const AUTO_REPLY_WINDOW = 8
/** A relay URL from a peer's list, in characters at most: real ones are well under 100; a
 *  longer one would make every cached list a store of the peer's junk. */
export const MAX_RELAY_URL_CHARS = 256
/** Peers' inbox relay lists cached at most (the most recent): each automatic answer to a new
 *  key looks one up, and a flood of keys must not grow the state. */
export const MAX_INBOXES = 200
/** Events asked for per page when paginating, and pages at most per relay and run (a run that
 *  stops short, here or at its deadline, goes on from there next time). Tests shrink both
 *  through P2P_TEST_PAGE_LIMIT and P2P_TEST_MAX_PAGES, so that a few dozen gift wraps stand in
 *  for tens of thousands. */
export const PAGE_LIMIT = testOverride('P2P_TEST_PAGE_LIMIT', 500)
export const MAX_PAGES = testOverride('P2P_TEST_MAX_PAGES', 200)
/** NIP-77: our negentropy messages stay under this many bytes (twice that in hex: a websocket
 *  frame under strfry's 131,072). */
export const NEG_FRAME_BYTES = 50_000
/** Gift wraps a relay has and we lack are fetched by id, this many per REQ (one filter), at
 *  most this many REQs at once. What bounds it on strfry is not maxReqFilterSize (200 filters
 *  in one REQ) but maxFilterLimit: a filter returns at most 500 events, so a longer batch would
 *  come back cut short yet end on EOSE; its filter size (65,535 bytes of decoded items: 2,047
 *  ids) and frame size (131,072 bytes) allow more. 200 stays well inside all three. */
export const FETCH_IDS_PER_REQ = 200
export const FETCH_REQS_IN_FLIGHT = 4
/** A NIP-11 document larger than this is not read (strfry's is under 1 KB). */
export const MAX_RELAY_INFO_BYTES = 64 * 1024
/** Frames larger than this are refused: no gift wrap we use comes near it. */
export const MAX_FRAME_BYTES = 4 * 1024 * 1024
/** Frames nesting arrays and objects deeper than this are refused before they are parsed (JSON
 *  of a few MB of brackets takes seconds and hundreds of MB to parse): the deepest message a
 *  relay sends us, an event's tag, is 4 levels down. */
export const MAX_FRAME_DEPTH = 8
/** Below this many key agreements or signatures in one run, loading WASM costs more than it saves. */
export const BULK_CRYPTO_FROM = 24
/** From this many gift wraps in one sync, a worker thread opens half of them (starting one costs
 *  ~60 ms; opening a wrap ~0.5 ms of one core). */
export const PARALLEL_OPEN_FROM = 400
/** Lookups of an id already taken answered by scanning (~1 ms each at 100,000 ids) before an
 *  index is built (~40 ms at 100,000): a run that takes a few messages needs only a few. */
export const SCANS_BEFORE_INDEX = 16
/** Events a filter without a limit may bring (those filters ask for a handful of our own events). */
export const UNLIMITED_FILTER_EVENTS = 100
/** Events beyond what the filters justify that a relay may send before it counts as flooding. */
export const FLOOD_SLACK = 100
/** Events one live subscription (`poll --wait`) may bring before it is ended as a flood: the
 *  largest file's chunks and the messages around it. Peers fill it, not the relay: the
 *  connection stays, and the wait reads that relay by syncing. Tests shrink it through
 *  P2P_TEST_MAX_LIVE_EVENTS. */
export const MAX_LIVE_EVENTS = testOverride('P2P_TEST_MAX_LIVE_EVENTS', MAX_FILE_CHUNKS + FLOOD_SLACK)

/** Events of one delivery in flight at once: fast on loopback, gentle on rate-limited relays. */
export const PUBLISH_WINDOW = 8
/** A queued item is given up after this many attempts (one per run at most). */
export const MAX_OUTBOX_ATTEMPTS = 50
/** Given-up items kept for `outbox` to show, beyond which the oldest of them go. */
export const MAX_OUTBOX_FAILED = 100

/** Random bytes of a call id (hex): short enough to type, unique enough per pair of agents. */
export const CALL_ID_BYTES = 5
export const FILE_ID_BYTES = 8

/** Work above these sizes shows a progress line on a terminal. */
export const PROGRESS_FROM_WRAPS = 100
export const PROGRESS_FROM_CHUNKS = 10
/** A --verbose line is cut after this many characters. */
export const MAX_LOG_LINE = 400
/** Why a relay was not read in full, as a warning says it, at most this many characters: the
 *  words of a hostile relay's CLOSED are printed by every run, and must not fill a cron log. */
export const MAX_RELAY_REASON = 400

/** A positive whole number from the environment (tests only), else `value`. */
export function testOverride(name: string, value: number): number {
  const n = Number(process.env[name])
  return Number.isInteger(n) && n > 0 ? n : value
}
