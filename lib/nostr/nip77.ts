// NIP-77 (negentropy) for one filter on one relay, as the initiator: we send fingerprints of the
// event ids we hold for the filter, the relay answers with its own, and in a round trip or a few
// we learn which ids it has that we lack; those alone are then fetched by id, in batches. A relay
// that does not speak it says so (NEG-ERR, a NOTICE) or stays silent: the caller reads page by
// page instead. The reconciliation is nostr-tools' (the negentropy v1 initiator; its module has no
// package export of its own, so the build and vitest alias `nostr-tools/nip77` to its file:
// nostr-tools-nip77.d.ts); the frames are relay/neg.ts's.
import { createHash } from 'node:crypto'
import type { Filter } from 'nostr-tools/filter'
import { Negentropy, NegentropyStorageVector } from 'nostr-tools/nip77'
import type { Event } from 'nostr-tools/pure'
import { FETCH_IDS_PER_REQ, FETCH_REQS_IN_FLIGHT, MAX_SEEN, NEG_FRAME_BYTES } from '../limits.ts'
import { NEG_PROBE_MS } from '../timing.ts'
import type { NegChannel, NegReply } from './relay/neg.ts'
import { classifyRefusal } from './relay/refusal.ts'
import type { QueryResult, RelaySocket } from './relay/socket.ts'

/** `need`: the ids the relay holds for the filter and we do not. A failure is `unsupported` when
 *  the relay does not speak NIP-77 (worth remembering), else transient (AUTH refused, the
 *  deadline); `ended` when the connection closed or the read was given up (nothing more to try). */
export type Reconciled =
  | { ok: true; need: string[]; rounds: number }
  /** `silent`: no answer at all within the probe (not a refusal: maybe only slow) */
  | { ok: false; unsupported: boolean; reason: string; ended?: boolean; silent?: boolean }

/** Reconciles the ids we hold for `filter` (id, created_at) with the relay's. */
export async function reconcile(
  channel: NegChannel,
  filter: Filter,
  have: Iterable<readonly [string, number]>,
  deadline: number,
  probeMs = NEG_PROBE_MS,
): Promise<Reconciled> {
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
  const need: string[] = []
  let rounds = 0
  let probeUntil = Date.now() + probeMs
  try {
    for (;;) {
      const reply = await next(rounds ? deadline : Math.min(deadline, probeUntil))
      if (!reply) {
        if (rounds || Date.now() >= deadline) return { ok: false, unsupported: false, reason: 'no NEG-MSG before the deadline' }
        return { ok: false, unsupported: true, silent: true, reason: `no answer to NEG-OPEN within ${probeMs} ms` }
      }
      if (reply.type === 'reopened') probeUntil = Date.now() + probeMs
      else if (reply.type === 'notice') return { ok: false, unsupported: true, reason: `NOTICE: ${reply.reason}` }
      else if (reply.type === 'closed') return { ok: false, unsupported: false, reason: reply.reason, ended: true }
      else if (reply.type === 'err') return { ok: false, unsupported: !transient(reply.reason), reason: `NEG-ERR: ${reply.reason}` }
      else {
        rounds++
        let answer: string | null
        try {
          answer = negentropy.reconcile(reply.hex, undefined, (id) => need.push(id))
        } catch (err) {
          return { ok: false, unsupported: true, reason: `unreadable NEG-MSG: ${(err as Error).message}` }
        }
        // more than we would remember: a relay claiming ids without end is read page by page
        if (need.length > MAX_SEEN) return { ok: false, unsupported: false, reason: `more than ${MAX_SEEN} ids to fetch` }
        if (answer === null) return { ok: true, need, rounds }
        session.send(answer)
      }
    }
  } finally {
    session.close()
  }
}

/** nostr-tools' storage, sealed, with the ids decoded natively into one buffer and bucket
 *  fingerprints summed on 32-bit words: its own insert (hex decoded in JavaScript, an array
 *  each) and fingerprint (two DataViews per id per bucket) took ~0.5 s a run at 50,000 ids. */
export function storageOf(have: Iterable<readonly [string, number]>): NegentropyStorageVector {
  let valid = [...have].filter(([id]) => id.length === 64)
  let bytes = Buffer.from(valid.map(([id]) => id).join(''), 'hex')
  if (bytes.length !== valid.length * 32) {
    // not all hex (never so for ids we checked): decoding stopped at the first that is not
    valid = valid.filter(([id]) => /^[0-9a-fA-F]{64}$/.test(id))
    bytes = Buffer.from(valid.map(([id]) => id).join(''), 'hex')
  }
  const storage = new WordStorage(bytes)
  storage.items = valid.map(([, createdAt], i) => ({
    timestamp: createdAt,
    id: new Uint8Array(bytes.buffer, bytes.byteOffset + i * 32, 32),
  }))
  storage.seal()
  return storage
}

class WordStorage extends NegentropyStorageVector {
  /** each id as 8 little-endian 32-bit words, in sorted order */
  private words = new Uint32Array(0)

  /** `bytes`: every id, 32 bytes each, that the items' ids are views of */
  constructor(private readonly bytes: Buffer) {
    super()
  }

  seal(): void {
    super.seal()
    this.words = new Uint32Array(this.items.length * 8)
    this.items.forEach(({ id }, i) => {
      for (let w = 0; w < 8; w++) this.words[i * 8 + w] = this.bytes.readUInt32LE(id.byteOffset - this.bytes.byteOffset + w * 4)
    })
  }

  /** negentropy's fingerprint: SHA-256 of the ids' sum (mod 2^256, little-endian) and their
   *  count (varint), first 16 bytes */
  fingerprint(begin: number, end: number): Uint8Array {
    this._checkSealed()
    this._checkBounds(begin, end)
    const limbs = new Array<number>(8).fill(0) // sums of up to 2^21 words stay exact in a double
    for (let i = begin; i < end; i++) for (let w = 0; w < 8; w++) limbs[w] += this.words[i * 8 + w]
    const sum = Buffer.alloc(32)
    let carry = 0
    for (let w = 0; w < 8; w++) {
      const limb = limbs[w] + carry
      sum.writeUInt32LE(limb % 2 ** 32, w * 4)
      carry = Math.floor(limb / 2 ** 32)
    }
    return new Uint8Array(
      createHash('sha256')
        .update(sum)
        .update(varint(end - begin))
        .digest()
        .subarray(0, 16),
    )
  }
}

function varint(n: number): Uint8Array {
  const out = [n & 0x7f]
  for (let rest = Math.floor(n / 128); rest > 0; rest = Math.floor(rest / 128)) out.unshift((rest & 0x7f) | 0x80)
  return Uint8Array.from(out)
}

/** Refusals that say nothing about NIP-77 itself: AUTH, a session the relay dropped, a pause. */
const transient = (reason: string) =>
  ['auth-required', 'rate-limited'].includes(classifyRefusal(reason)) || /^(error:\s*)?closed:/i.test(reason.trim())

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
