// NIP-77 (negentropy) for one filter on one relay, as the initiator: we send fingerprints of the
// event ids we hold for the filter, the relay answers with its own, and in a round trip or a few
// we learn which ids it has that we lack; those alone are then fetched by id, in batches. A relay
// that does not speak it says so (NEG-ERR, a NOTICE) or stays silent: the caller reads page by
// page instead. The reconciliation is nostr-tools' (the negentropy v1 initiator; its module has no
// package export of its own, so the build and vitest alias `nostr-tools/nip77` to its file:
// nostr-tools-nip77.d.ts); the frames are relay/neg.ts's.
import { createHash } from 'node:crypto'
import { endianness } from 'node:os'
import type { Filter } from 'nostr-tools/filter'
import { Negentropy, NegentropyStorageVector } from 'nostr-tools/nip77'
import type { Event } from 'nostr-tools/pure'
import { FETCH_IDS_PER_REQ, FETCH_REQS_IN_FLIGHT, MAX_SEEN, NEG_FRAME_BYTES } from '../limits.ts'
import { NEG_PROBE_MS } from '../timing.ts'
import { dateAt, ID_AT, ITEM_BYTES, idAt, itemCount, lowerBound } from './neg-items.ts'
import type { NegChannel, NegReply } from './relay/neg.ts'
import { classifyRefusal } from './relay/refusal.ts'
import type { QueryResult, RelaySocket } from './relay/socket.ts'

/** `need`: the ids the relay holds for the filter and we do not; `lacks`: the ids we hold that
 *  it does not (as its NIP-77 answer says). A failure is `unsupported` when the relay does not
 *  speak NIP-77 (worth remembering), `behindAuth` when its reads need AUTH (an answer then
 *  proves nothing: neg.ts), else transient (the deadline); `ended` when the connection closed or
 *  the read was given up (nothing more to try). */
export type Reconciled =
  | { ok: true; need: string[]; lacks: Set<string>; rounds: number }
  /** `silent`: no answer at all within the probe (not a refusal: maybe only slow) */
  | { ok: false; unsupported: boolean; reason: string; ended?: boolean; silent?: boolean; behindAuth?: boolean }

/** Reconciles the ids we hold for `filter` (packed: neg-items.ts) with the relay's. */
export async function reconcile(
  channel: NegChannel,
  filter: Filter,
  have: Buffer,
  deadline: number,
  probeMs = NEG_PROBE_MS,
): Promise<Reconciled> {
  const behindAuth = (why: string) =>
    ({ ok: false, unsupported: false, behindAuth: true, reason: `reads need AUTH here (${why})` }) as const
  if (channel.behindAuth) return behindAuth('the relay asked for it')
  const storage = storageOf(have)
  const negentropy = new Negentropy(storage, NEG_FRAME_BYTES)
  const replies: NegReply[] = []
  let wake = () => {}
  const session = channel.open(filter, negentropy.initiate(), (reply) => {
    replies.push(reply)
    wake()
  })
  const next = (until: number) =>
    new Promise<NegReply | undefined>((resolve) => {
      if (replies.length) return resolve(replies.shift())
      const timer = setTimeout(
        () => {
          wake = () => {}
          resolve(undefined)
        },
        Math.max(0, until - Date.now()),
      )
      wake = () => {
        wake = () => {}
        clearTimeout(timer)
        resolve(replies.shift())
      }
    })
  // sets: an initiator out of room asks again about a range whose ids it was just sent
  const need = new Set<string>()
  const lacks = new Set<string>()
  let rounds = 0
  const probeUntil = Date.now() + probeMs
  try {
    for (;;) {
      const reply = await next(rounds ? deadline : Math.min(deadline, probeUntil))
      if (!reply) {
        if (rounds || Date.now() >= deadline) return { ok: false, unsupported: false, reason: 'no NEG-MSG before the deadline' }
        return { ok: false, unsupported: true, silent: true, reason: `no answer to NEG-OPEN within ${probeMs} ms` }
      }
      if (reply.type === 'notice') return { ok: false, unsupported: true, reason: `NOTICE: ${reply.reason}` }
      if (reply.type === 'closed') return { ok: false, unsupported: false, reason: reply.reason, ended: true }
      if (reply.type === 'err') {
        const refusal = classifyRefusal(reply.reason)
        if (refusal === 'auth-required') return behindAuth(`NEG-ERR: ${reply.reason}`)
        return { ok: false, unsupported: !transient(refusal, reply.reason), reason: `NEG-ERR: ${reply.reason}` }
      }
      rounds++
      let answer: string | null
      try {
        answer = negentropy.reconcile(
          reply.hex,
          (id) => lacks.add(id),
          (id) => need.add(id),
        )
      } catch (err) {
        return { ok: false, unsupported: true, reason: `unreadable NEG-MSG: ${(err as Error).message}` }
      }
      // more than we would remember: a relay claiming ids without end is read page by page
      if (need.size > MAX_SEEN) return { ok: false, unsupported: false, reason: `more than ${MAX_SEEN} ids to fetch` }
      if (answer === null) return { ok: true, need: [...need], lacks, rounds }
      session.send(answer)
    }
  } finally {
    session.close()
  }
}

/** Refusals that say nothing about NIP-77 itself: a session the relay dropped, a pause. */
const transient = (refusal: ReturnType<typeof classifyRefusal>, reason: string) =>
  refusal === 'rate-limited' || /^(error:\s*)?closed:/i.test(reason.trim())

/** Fetches `ids` with `base`'s kinds and tags (REQs of FETCH_IDS_PER_REQ ids, a few at once);
 *  complete when every REQ ended on EOSE. */
export async function fetchIds(
  socket: RelaySocket,
  base: Filter,
  ids: string[],
  deadline: number,
  onEvent: (event: Event, known: boolean) => void,
): Promise<QueryResult> {
  const { since: _since, until: _until, limit: _limit, ...scope } = base
  const batches: string[][] = []
  for (let i = 0; i < ids.length; i += FETCH_IDS_PER_REQ) batches.push(ids.slice(i, i + FETCH_IDS_PER_REQ))
  let failed: QueryResult | undefined
  const worker = async () => {
    for (let batch = batches.shift(); batch && !failed; batch = batches.shift()) {
      const result = await socket.query([{ ...scope, ids: batch, limit: batch.length }], deadline, onEvent)
      if (!result.complete) failed ??= result
    }
  }
  await Promise.all(Array.from({ length: Math.min(FETCH_REQS_IN_FLIGHT, batches.length) }, worker))
  return failed ?? { url: socket.url, complete: true }
}

type Item = { timestamp: number; id: Uint8Array }

/** nostr-tools' storage over packed items (sealed as it comes: they are sorted already), with
 *  fingerprints summed on 32-bit words: its own (two DataViews per id per bucket) took ~0.5 s
 *  a run at 50,000 ids. */
class PackedStorage extends NegentropyStorageVector {
  /** each item as 10 little-endian 32-bit words: its date (2), then its id (8) */
  private readonly words: Uint32Array

  constructor(private readonly packed: Buffer) {
    super()
    this.sealed = true
    const aligned = packed.byteOffset % 4 === 0 && endianness() === 'LE'
    this.words = aligned ? new Uint32Array(packed.buffer, packed.byteOffset, packed.length / 4) : wordsOf(packed)
  }

  size(): number {
    return itemCount(this.packed)
  }

  getItem(i: number): Item {
    if (i >= this.size()) throw new Error('out of range')
    return { timestamp: dateAt(this.packed, i), id: idAt(this.packed, i) }
  }

  iterate(begin: number, end: number, cb: (item: Item, i: number) => boolean): void {
    this._checkBounds(begin, end)
    for (let i = begin; i < end; i++) if (!cb(this.getItem(i), i)) break
  }

  findLowerBound(begin: number, end: number, bound: Item): number {
    this._checkBounds(begin, end)
    return lowerBound(this.packed, bound.timestamp, bound.id, begin, end)
  }

  /** negentropy's fingerprint: SHA-256 of the ids' sum (mod 2^256, little-endian) and their
   *  count (varint), first 16 bytes */
  fingerprint(begin: number, end: number): Uint8Array {
    this._checkBounds(begin, end)
    const limbs = new Array<number>(8).fill(0) // sums of up to 2^21 words stay exact in a double
    const words = ITEM_BYTES / 4
    for (let i = begin; i < end; i++) for (let w = 0; w < 8; w++) limbs[w] += this.words[i * words + ID_AT / 4 + w]
    const sum = Buffer.alloc(32)
    let carry = 0
    for (let w = 0; w < 8; w++) {
      const limb = limbs[w] + carry
      sum.writeUInt32LE(limb % 2 ** 32, w * 4)
      carry = Math.floor(limb / 2 ** 32)
    }
    const digest = createHash('sha256')
      .update(sum)
      .update(varint(end - begin))
      .digest()
    return new Uint8Array(digest.subarray(0, 16))
  }

  _checkBounds(begin: number, end: number): void {
    if (begin > end || end > this.size()) throw new Error('bad range')
  }
}

/** A sealed negentropy storage of packed items (packItems, or KnownIds' own). */
export function storageOf(items: Buffer): NegentropyStorageVector {
  return new PackedStorage(items)
}

function wordsOf(packed: Buffer): Uint32Array {
  const words = new Uint32Array(packed.length / 4)
  for (let w = 0; w < words.length; w++) words[w] = packed.readUInt32LE(w * 4)
  return words
}

function varint(n: number): Uint8Array {
  const out = [n & 0x7f]
  for (let rest = Math.floor(n / 128); rest > 0; rest = Math.floor(rest / 128)) out.unshift((rest & 0x7f) | 0x80)
  return Uint8Array.from(out)
}
