// NIP-17 receiving: opens the gift wraps a sync brought, in bulk, a large batch on two threads.
// Everything that fails a check is dropped and counted, never passed on.
import { existsSync } from 'node:fs'
import { Worker } from 'node:worker_threads'
import type { Event } from 'nostr-tools/pure'
import { PARALLEL_OPEN_FROM } from '../limits.ts'
import { expirationOf } from './kinds.ts'
import { prepareBulk } from './nip44.ts'
import { openWrap } from './nip59.ts'
import { type P2PMessage, parseRumor, type Rumor } from './p2p.ts'
import { verifyAll } from './schnorr.ts'

export interface Opened {
  wrapId: string
  wrapCreatedAt: number
  rumor: Rumor
  msg: P2PMessage
  /** a NIP-04 DM of the original skill (legacy.ts), not a gift wrap */
  legacy?: true
}

/** Opens wraps addressed to us; drops what does not open, has a bad seal signature, is not
 *  for us, has expired by `now` (NIP-40, on any of its layers), or is not understood. From
 *  PARALLEL_OPEN_FROM wraps on, a worker thread opens half of them meanwhile: key agreements and
 *  signature checks are nearly all the cost, and agents run on machines with more than one core. */
export async function openWraps(
  wraps: Event[],
  me: string,
  secretKey: Uint8Array,
  now: number,
  log: (line: string) => void,
): Promise<{ opened: Opened[]; dropped: number }> {
  const half = wraps.length >= PARALLEL_OPEN_FROM ? Math.floor(wraps.length / 2) : 0
  const helper = half ? inWorker(wraps.slice(0, half), me, secretKey, now, log) : undefined
  if (helper) log(`opening ${wraps.length} gift wraps on two threads`)
  const mine = await openHere(wraps.slice(half), me, secretKey, now)
  // a worker that could not start or failed leaves its half to this thread: nothing is skipped
  const theirs = helper ? ((await helper) ?? (await openHere(wraps.slice(0, half), me, secretKey, now))) : { opened: [], drops: [] }
  const drops = [...theirs.drops, ...mine.drops]
  for (const { wrapId, why } of drops) log(`dropped gift wrap ${wrapId.slice(0, 12)}: ${why}`)
  return { opened: [...theirs.opened, ...mine.opened], dropped: drops.length }
}

interface OpenedHere {
  opened: Opened[]
  drops: Array<{ wrapId: string; why: string }>
}

/** Opens wraps on this thread: what opened, and why each other one did not. */
export async function openHere(wraps: Event[], me: string, secretKey: Uint8Array, now: number): Promise<OpenedHere> {
  const candidates: Array<Opened & { seal: Event }> = []
  const drops: OpenedHere['drops'] = []
  await prepareBulk(wraps.length)
  for (const wrap of wraps) {
    try {
      const { seal, rumor } = openWrap(wrap, secretKey)
      const recipients = rumor.tags.filter((t) => t[0] === 'p').map((t) => t[1])
      // a rumor names its recipient; our own copies (NIP-17) name the peer
      if (rumor.pubkey !== me && !recipients.includes(me)) throw new Error('rumor is not addressed to us')
      const expiry = earliestExpiration({ 'gift wrap': wrap, seal, rumor })
      if (expiry && expiry.at <= now)
        throw new Error(`expired (NIP-40) on the ${expiry.layer} at ${new Date(expiry.at * 1000).toISOString()}`)
      const parsed = parseRumor(rumor)
      if (!parsed) throw new Error(`rumor kind ${rumor.kind} not understood`)
      // a disappearing DM is kept no later than any of its layers asks; a DM keeps its seal,
      // which is what an owner's message is shown to a peer in (owner-proof.ts)
      const msg = parsed.type === 'dm' ? { ...parsed, seal, ...(expiry ? { expiresAt: expiry.at } : {}) } : parsed
      candidates.push({ wrapId: wrap.id, wrapCreatedAt: wrap.created_at, rumor, msg, seal })
    } catch (err) {
      drops.push({ wrapId: wrap.id, why: (err as Error).message })
    }
  }
  // the owners' seals that proofs show are checked in the same batch as the wraps' seals
  const proofs = candidates.flatMap((c) => (c.msg.type === 'owner-proof' ? [c.msg] : []))
  const valid = await verifyAll([...candidates.map((c) => c.seal), ...proofs.map((p) => p.proof.seal)])
  proofs.forEach((p, i) => {
    p.sealSigned = valid[candidates.length + i]
  })
  const opened: Opened[] = []
  candidates.forEach(({ seal, ...c }, i) => {
    if (valid[i]) opened.push(c)
    else drops.push({ wrapId: c.wrapId, why: `the seal's signature is invalid (${seal.id.slice(0, 12)})` })
  })
  return { opened, drops }
}

/** NIP-40 across a gift wrap's layers: NIP-17 puts a disappearing message's `expiration` on the
 *  wrap, and asks for it on the seal too (in case that leaks); a rumor may carry its own. Each
 *  layer's is a time after which that layer, and what it carries, is to be gone: the earliest
 *  wins. Undefined when no layer has one. */
export function earliestExpiration(layers: Record<string, { tags: unknown[] }>): { at: number; layer: string } | undefined {
  let earliest: { at: number; layer: string } | undefined
  for (const [layer, event] of Object.entries(layers)) {
    const at = expirationOf(event)
    if (at !== undefined && (earliest === undefined || at < earliest.at)) earliest = { at, layer }
  }
  return earliest
}

/** Opens `wraps` in a worker thread (open-worker.ts); undefined when none starts, as when run
 *  from source, where only the build has the worker's file beside this one. The promise gives
 *  undefined when the worker failed: its wraps are then opened here. */
function inWorker(
  wraps: Event[],
  me: string,
  secretKey: Uint8Array,
  now: number,
  log: (line: string) => void,
): Promise<OpenedHere | undefined> | undefined {
  const file = new URL('./open-worker.js', import.meta.url)
  if (!existsSync(file)) return undefined
  let worker: Worker
  try {
    worker = new Worker(file, { workerData: { wraps, me, secretKey, now } })
  } catch (err) {
    log(`no worker thread (${(err as Error).message}): opening on one`)
    return undefined
  }
  return new Promise((resolve) => {
    let settled = false
    const settle = (result: OpenedHere | undefined, failure?: string) => {
      if (settled) return
      settled = true
      if (failure) log(`the worker thread failed (${failure}): its half is opened here`)
      resolve(result)
      void worker.terminate()
    }
    worker.once('message', (result: OpenedHere) => settle(result))
    worker.once('error', (err) => settle(undefined, err.message))
    worker.once('exit', (code) => settle(undefined, `exit ${code}`))
  })
}
