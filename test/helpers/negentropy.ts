// The relay side of NIP-77 for the test relays: NEG-OPEN, NEG-MSG and NEG-CLOSE answered as
// strfry answers them (NEG-MSG, or NEG-ERR "blocked: too many query results" past its
// maxSyncEvents, "PROTOCOL-ERROR" for a message it cannot read, "closed: unknown subscription
// handle"). The responder half of negentropy v1 is written here from the protocol's description:
// nostr-tools' module implements only the initiator's half (as responder it never sends its own
// ids back), but its storage vector (built as our client builds it, lib/nostr/nip77.ts, whose
// fingerprints are checked against nostr-tools') keeps the items sorted and makes the fingerprints.
import { nip77 } from 'nostr-tools'
import { bytesToHex, hexToBytes } from 'nostr-tools/utils'
import { itemCount, storageOf } from '../../lib/nostr/neg-items.ts'

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
      const items = await query(a as Record<string, unknown>)
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

/** The responder's answer to one message of the initiator, at most `frameLimit` bytes. */
export function respond(storage: Storage, hex: string, frameLimit: number): string {
  const query = new Reader(hexToBytes(hex))
  const out = new Writer()
  if (query.byte() !== VERSION) return bytesToHex(Uint8Array.from(out.bytes)) // our version: the initiator may retry
  const size = storage.size()
  let lower = 0
  let lowerBound: Item = { timestamp: 0, id: new Uint8Array() }
  let skipping = false
  const flushSkip = () => {
    if (skipping) out.bound(lowerBound).varint(SKIP)
    skipping = false
  }
  const full = (extra = 0) => out.bytes.length + extra > frameLimit - 200
  while (!query.done) {
    const bound = query.bound()
    const mode = query.varint()
    const upper = storage.findLowerBound(lower, size, bound)
    if (mode === SKIP) skipping = true
    else if (mode === FINGERPRINT) {
      const theirs = bytesToHex(query.take(16))
      if (theirs === bytesToHex(storage.fingerprint(lower, upper))) skipping = true
      else {
        flushSkip()
        if (!splitRange(storage, out, lower, upper, bound, full)) return finish(out, storage, lower, size)
      }
    } else if (mode === ID_LIST) {
      query.take(32 * query.varint()) // their ids: the initiator works out what differs
      flushSkip()
      // our ids in the range, as many as fit; the rest is left to a closing fingerprint
      let end = lower
      while (end < upper && !full(34 + 32 * (end - lower + 1))) end++
      if (end < upper) {
        out
          .bound(storage.getItem(end))
          .varint(ID_LIST)
          .varint(end - lower)
        storage.iterate(lower, end, (item) => Boolean(out.raw(item.id)))
        return finish(out, storage, end, size)
      }
      out
        .bound(bound)
        .varint(ID_LIST)
        .varint(upper - lower)
      storage.iterate(lower, upper, (item) => Boolean(out.raw(item.id)))
    } else throw new Error('unexpected mode')
    if (!skipping && full()) return finish(out, storage, upper, size)
    lower = upper
    lowerBound = bound
  }
  return bytesToHex(Uint8Array.from(out.bytes))
}

/** Out of room: one fingerprint for everything from `from` on, for the initiator to split. */
function finish(out: Writer, storage: Storage, from: number, size: number): string {
  out.bound({ timestamp: INFINITY, id: new Uint8Array() }).varint(FINGERPRINT).raw(storage.fingerprint(from, size))
  return bytesToHex(Uint8Array.from(out.bytes))
}

/** A range that differs: its ids when few, else 16 fingerprinted buckets. False when out of room. */
function splitRange(storage: Storage, out: Writer, lower: number, upper: number, bound: Item, full: (extra?: number) => boolean): boolean {
  const count = upper - lower
  if (count < 2 * BUCKETS) {
    if (full(40 + 32 * count)) return false
    out.bound(bound).varint(ID_LIST).varint(count)
    storage.iterate(lower, upper, (item) => Boolean(out.raw(item.id)))
    return true
  }
  if (full(BUCKETS * 60)) return false
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
  return true
}

/** The shortest bound above `prev` and not above `next`. */
function minimalBound(prev: Item, next: Item): Item {
  if (prev.timestamp !== next.timestamp) return { timestamp: next.timestamp, id: new Uint8Array() }
  let shared = 0
  while (shared < 32 && prev.id[shared] === next.id[shared]) shared++
  return { timestamp: next.timestamp, id: next.id.subarray(0, shared + 1) }
}
