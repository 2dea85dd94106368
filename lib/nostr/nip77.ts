// NIP-77 (negentropy) for one filter on one relay, as the initiator: we send fingerprints of the
// event ids we hold for the filter, the relay answers with its own, and in a round trip or a few
// we learn which ids it has that we lack; those alone are then fetched by id, in batches. A relay
// that does not speak it says so (NEG-ERR, a NOTICE) or stays silent: the caller reads page by
// page instead. The reconciliation is nostr-tools' (the negentropy v1 initiator; its module has no
// package export of its own, so the build and vitest alias `nostr-tools/nip77` to its file:
// nostr-tools-nip77.d.ts); the frames are relay/neg.ts's.
import type { Filter } from 'nostr-tools/filter'
import { Negentropy } from 'nostr-tools/nip77'
import type { Event } from 'nostr-tools/pure'
import { FETCH_IDS_PER_REQ, FETCH_REQS_IN_FLIGHT, MAX_SEEN, NEG_FRAME_BYTES } from '../limits.ts'
import { NEG_PROBE_MS } from '../timing.ts'
import { storageOf } from './neg-items.ts'
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

/** Reconciles the ids we hold for `filter` (packed: neg-items.ts) with the relay's. */
export async function reconcile(
  channel: NegChannel,
  filter: Filter,
  have: Buffer,
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
  // a set: an initiator out of room asks again about a range whose ids it was just sent
  const need = new Set<string>()
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
          answer = negentropy.reconcile(reply.hex, undefined, (id) => need.add(id))
        } catch (err) {
          return { ok: false, unsupported: true, reason: `unreadable NEG-MSG: ${(err as Error).message}` }
        }
        // more than we would remember: a relay claiming ids without end is read page by page
        if (need.size > MAX_SEEN) return { ok: false, unsupported: false, reason: `more than ${MAX_SEEN} ids to fetch` }
        if (answer === null) return { ok: true, need: [...need], rounds }
        session.send(answer)
      }
    }
  } finally {
    session.close()
  }
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
