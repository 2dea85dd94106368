// The relay side of NIP-77 for the test relays: NEG-OPEN, NEG-MSG and NEG-CLOSE answered as
// strfry answers them (NEG-MSG, or NEG-ERR "blocked: too many query results" past its
// maxSyncEvents, "PROTOCOL-ERROR" for a message it cannot read, "closed: unknown subscription
// handle"), except where an answer is cut at the frame limit (respond()). The responder half of
// negentropy v1 is written here from the protocol's description: nostr-tools' module implements
// only the initiator's half (as responder it never sends its own ids back); the items and their
// fingerprints are our client's (lib/nostr/neg-items.ts, checked against nostr-tools').
import { nip77 } from 'nostr-tools'
import { bytesToHex, hexToBytes } from 'nostr-tools/utils'
import { itemCount } from '../../lib/nostr/neg-items.ts'
import { storageOf } from '../../lib/nostr/nip77.ts'

const { NegentropyStorageVector } = nip77
type Storage = InstanceType<typeof NegentropyStorageVector>
type Item = { timestamp: number; id: Uint8Array }

const VERSION = 0x61
const SKIP = 0
const FINGERPRINT = 1
const ID_LIST = 2
const INFINITY = Number.MAX_VALUE
const BUCKETS = 16

export interface NegOptions {
  /** the largest message this side sends, in bytes (strfry: 500,000) */
  frameLimit?: number
  /** more matching events than this: NEG-ERR "blocked: too many query results" (strfry: 1,000,000) */
  maxSyncEvents?: number
  /** answer from a view that holds none of the events, as strfry answers an AUTHed reader of
   *  restricted kinds (RelayNegentropy.cpp lines 171-175), but with no AUTH asked: only the
   *  client's cross-check by REQ (lib/session/reconcile.ts) can tell */
  emptyView?: boolean
}

/** One connection's NEG sessions: `handle` takes a NEG-* message, `send` gets the answers.
 *  `query` gives the items (id, created_at; packed: lib/nostr/neg-items.ts) of the events the
 *  filter matches that this connection may see. */
export function negentropyConnection(
  query: (filter: Record<string, unknown>) => Promise<Buffer>,
  send: (frame: unknown[]) => void,
  opts: NegOptions = {},
): (message: unknown[]) => Promise<void> {
  const sessions = new Map<string, Storage>()
  const answer = (subId: string, storage: Storage, hex: string) => {
    try {
      send(['NEG-MSG', subId, respond(storage, hex, opts.frameLimit ?? 500_000)])
    } catch {
      sessions.delete(subId)
      send(['NEG-ERR', subId, 'PROTOCOL-ERROR'])
    }
  }
  return async ([type, subId, a, b]) => {
    const id = String(subId)
    if (type === 'NEG-CLOSE') sessions.delete(id)
    else if (type === 'NEG-MSG') {
      const storage = sessions.get(id)
      if (storage) answer(id, storage, String(a))
      else send(['NEG-ERR', id, 'closed: unknown subscription handle'])
    } else if (type === 'NEG-OPEN') {
      const items = opts.emptyView ? Buffer.alloc(0) : await query(a as Record<string, unknown>)
      if (itemCount(items) > (opts.maxSyncEvents ?? 1_000_000)) return send(['NEG-ERR', id, 'blocked: too many query results'])
      const storage = storageOf(items)
      sessions.set(id, storage)
      answer(id, storage, String(b))
    }
  }
}

class Reader {
  private at = 0
  private lastTimestamp = 0
  constructor(private readonly bytes: Uint8Array) {}
  get done(): boolean {
    return this.at >= this.bytes.length
  }
  byte(): number {
    if (this.done) throw new Error('message ends early')
    return this.bytes[this.at++]
  }
  take(n: number): Uint8Array {
    if (this.at + n > this.bytes.length) throw new Error('message ends early')
    this.at += n
    return this.bytes.subarray(this.at - n, this.at)
  }
  varint(): number {
    let n = 0
    for (;;) {
      const byte = this.byte()
      n = n * 128 + (byte & 0x7f)
      if (!(byte & 0x80)) return n
    }
  }
  /** timestamps are deltas from the previous one, plus one; 0 is infinity (and stays so) */
  bound(): Item {
    const raw = this.varint()
    this.lastTimestamp = raw === 0 || this.lastTimestamp === INFINITY ? INFINITY : this.lastTimestamp + raw - 1
    const length = this.varint()
    if (length > 32) throw new Error('bound key too long')
    return { timestamp: this.lastTimestamp, id: this.take(length) }
  }
}

class Writer {
  readonly bytes: number[] = [VERSION]
  private lastTimestamp = 0
  varint(n: number): this {
    const out = [n & 0x7f]
    for (let rest = Math.floor(n / 128); rest > 0; rest = Math.floor(rest / 128)) out.unshift((rest & 0x7f) | 0x80)
    this.bytes.push(...out)
    return this
  }
  raw(bytes: Uint8Array): this {
    for (const b of bytes) this.bytes.push(b)
    return this
  }
  bound(b: Item): this {
    if (b.timestamp === INFINITY) this.varint(0)
    else this.varint(b.timestamp - this.lastTimestamp + 1)
    this.lastTimestamp = b.timestamp
    return this.varint(b.id.length).raw(b.id)
  }
}

/** One range of the initiator's message: its upper bound, the items it holds here (from `lower`
 *  to `upper`), whether it is settled (a skip, or a fingerprint equal to ours) and its mode. */
type Range = { bound: Item; mode: number; lower: number; upper: number; settled: boolean }

/** The responder's answer to one message of the initiator, at most `frameLimit` bytes.
 *  Out of room, the rest is answered in short: a skip for each run of ranges the initiator has
 *  settled and one fingerprint for each run it has not. The reference responder (and strfry) sends
 *  one fingerprint for everything after the cut instead, which reopens ranges the initiator had
 *  settled by lists of ids: it reports their ids again (seen: 56 runs in 300 at 4 KB frames).
 *  Only when even the short answer would not fit does this one do the same. */
export function respond(storage: Storage, hex: string, frameLimit: number): string {
  const query = new Reader(hexToBytes(hex))
  const out = new Writer()
  if (query.byte() !== VERSION) return bytesToHex(Uint8Array.from(out.bytes)) // our version: the initiator may retry
  const size = storage.size()
  const ranges: Range[] = []
  for (let lower = 0; !query.done; ) {
    const bound = query.bound()
    const mode = query.varint()
    const upper = storage.findLowerBound(lower, size, bound)
    let settled = mode === SKIP
    if (mode === FINGERPRINT) settled = bytesToHex(query.take(16)) === bytesToHex(storage.fingerprint(lower, upper))
    else if (mode === ID_LIST)
      query.take(32 * query.varint()) // their ids: the initiator works out what differs
    else if (mode !== SKIP) throw new Error('unexpected mode')
    ranges.push({ bound, mode, lower, upper, settled })
    lower = upper
  }
  const budget = frameLimit - 200
  // keep[i]: the most the short answer for ranges i.. takes, a bound (after the one before its run)
  // and a mode for each run, and a fingerprint for each run not settled
  const keep = new Array<number>(ranges.length + 1).fill(0)
  const runStart: number[] = []
  for (let i = 0; i < ranges.length; i++) runStart.push(i > 0 && ranges[i - 1].settled === ranges[i].settled ? runStart[i - 1] : i)
  for (let i = ranges.length - 1; i >= 0; i--) {
    const r = ranges[i]
    const endsRun = i === ranges.length - 1 || ranges[i + 1].settled !== r.settled
    const after = runStart[i] > 0 ? ranges[runStart[i] - 1].bound.timestamp : 0
    keep[i] = keep[i + 1] + (endsRun ? entrySize(r.bound, after) + (r.settled ? 0 : 16) : 0)
  }
  // room for the short answer is kept while it takes at most half a frame; past that (a message
  // of very many short ranges) the answer is cut as the reference cuts it
  const fits = (i: number, extra: number) => out.bytes.length + extra + ENTRY + (keep[i + 1] <= budget / 2 ? keep[i + 1] : 0) <= budget
  let skipping = false
  const flushSkip = (i: number) => {
    if (skipping && i > 0) out.bound(ranges[i - 1].bound).varint(SKIP)
    skipping = false
  }
  const cut = (i: number, from: number) => {
    flushSkip(i)
    if (out.bytes.length + keep[i] <= frameLimit) shortAnswer(storage, out, ranges, i, from)
    else out.bound({ timestamp: INFINITY, id: new Uint8Array() }).varint(FINGERPRINT).raw(storage.fingerprint(from, size))
    return bytesToHex(Uint8Array.from(out.bytes))
  }
  for (let i = 0; i < ranges.length; i++) {
    const { bound, mode, lower, upper, settled } = ranges[i]
    const count = upper - lower
    if (settled) skipping = true
    else if (mode === ID_LIST) {
      // our ids in the range, as many as fit; the rest is answered in short
      flushSkip(i)
      let end = lower
      while (end < upper && fits(i, ENTRY + 8 + 32 * (end - lower + 1))) end++
      if (end === lower && end < upper) return cut(i, lower)
      if (end < upper) {
        out
          .bound(storage.getItem(end))
          .varint(ID_LIST)
          .varint(end - lower)
        storage.iterate(lower, end, (item) => Boolean(out.raw(item.id)))
        return cut(i, end)
      }
      out.bound(bound).varint(ID_LIST).varint(count)
      storage.iterate(lower, upper, (item) => Boolean(out.raw(item.id)))
    } else {
      flushSkip(i)
      if (!fits(i, ENTRY + (count < 2 * BUCKETS ? 8 + 32 * count : BUCKETS * ENTRY))) return cut(i, lower)
      splitRange(storage, out, lower, upper, bound)
    }
  }
  return bytesToHex(Uint8Array.from(out.bytes))
}

/** The most a bound, its mode and a fingerprint take: a timestamp delta (6 bytes), a length,
 *  32 bytes of id, the mode, 16 bytes of fingerprint. */
const ENTRY = 56

/** The bytes a bound and its mode take after a bound at `previous` (or later). */
function entrySize(bound: Item, previous: number): number {
  const varintSize = (n: number) => (n < 128 ? 1 : Math.ceil(Math.log2(n + 1) / 7))
  return (bound.timestamp === INFINITY ? 1 : varintSize(bound.timestamp - previous + 1)) + 1 + bound.id.length + 1
}

/** The rest of the message from range `i` (its items from `from` on) in short: each run of
 *  ranges the initiator settled a skip (none for the last), each other run our fingerprint. */
function shortAnswer(storage: Storage, out: Writer, ranges: Range[], i: number, from: number): void {
  let start = from
  for (let j = i; j < ranges.length; j++) {
    const r = ranges[j]
    if (j + 1 < ranges.length && ranges[j + 1].settled === r.settled) continue
    if (!r.settled) out.bound(r.bound).varint(FINGERPRINT).raw(storage.fingerprint(start, r.upper))
    else if (j + 1 < ranges.length) out.bound(r.bound).varint(SKIP)
    start = r.upper
  }
}

/** A range that differs: its ids when few, else 16 fingerprinted buckets. */
function splitRange(storage: Storage, out: Writer, lower: number, upper: number, bound: Item): void {
  const count = upper - lower
  if (count < 2 * BUCKETS) {
    out.bound(bound).varint(ID_LIST).varint(count)
    storage.iterate(lower, upper, (item) => Boolean(out.raw(item.id)))
    return
  }
  let at = lower
  for (let i = 0; i < BUCKETS; i++) {
    const size = Math.floor(count / BUCKETS) + (i < count % BUCKETS ? 1 : 0)
    const fingerprint = storage.fingerprint(at, at + size)
    at += size
    out
      .bound(at === upper ? bound : minimalBound(storage.getItem(at - 1), storage.getItem(at)))
      .varint(FINGERPRINT)
      .raw(fingerprint)
  }
}

/** The shortest bound above `prev` and not above `next`. */
function minimalBound(prev: Item, next: Item): Item {
  if (prev.timestamp !== next.timestamp) return { timestamp: next.timestamp, id: new Uint8Array() }
  let shared = 0
  while (shared < 32 && prev.id[shared] === next.id[shared]) shared++
  return { timestamp: next.timestamp, id: next.id.subarray(0, shared + 1) }
}
