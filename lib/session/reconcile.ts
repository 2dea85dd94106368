// Reading our gift wraps at a cost that follows what is new, not what is old. A relay that speaks
// NIP-77 compares the ids it holds for our window with the ones we have (`seen`) and we fetch only
// those we lack; one that does not is read page by page, going on from where the last run
// stopped. Which way, and where from, is planned from the state (fold.ts: wrapPlan); what it
// read folds back into the state there too (foldSync).
import type { Filter } from 'nostr-tools/filter'
import type { Event } from 'nostr-tools/pure'
import { CROSS_CHECK_WRAPS } from '../limits.ts'
import { fetchIds, reconcile } from '../nostr/nip77.ts'
import type { RelayPool } from '../nostr/relay/pool.ts'
import type { QueryResult, RelaySocket } from '../nostr/relay/socket.ts'
import type { State } from '../store/schema.ts'
import { type WrapPlan, type WrapResult, wrapPlan } from './fold.ts'
import { readOn, servedTo } from './paging.ts'

export interface WrapReads {
  /** new gift wraps (not in `seen`), signatures checked */
  events: Event[]
  results: WrapResult[]
}

/** Reads the gift wraps for `me` from every relay of the pool, each its own way. */
export async function readWraps(
  pool: RelayPool,
  state: State,
  me: string,
  now: number,
  opts: { patient: string[]; log: (line: string) => void; relays: string[] },
): Promise<WrapReads> {
  const plans = new Map<string, WrapPlan>()
  const planOf = (url: string) => {
    const plan = plans.get(url) ?? wrapPlan(state, me, url, now)
    plans.set(url, plan)
    return plan
  }
  const known = (id: string) => state.seen.has(id)
  // what each relay's read found out, kept even when the pool gives up on the relay before it
  // returns (slower than the others): a page-by-page read that stopped short still moved on
  const found = new Map<string, Partial<WrapResult>>()
  const note = (url: string, more: Partial<WrapResult>) => found.set(url, { ...found.get(url), ...more })
  // the newest wrap each relay served, known or not: how far its cursor may move
  const served = new Map<string, number>()

  const read = async (socket: RelaySocket, deadline: number, collect: (event: Event) => void): Promise<QueryResult> => {
    const plan = planOf(socket.url)
    const onEvent = servedTo(served, socket.url, (event, isKnown) => isKnown || collect(event))
    if (plan.negentropy) {
      // the newest few wraps by REQ, in the same flight: a NIP-77 answer must account for each
      const newest = newestWraps(socket, plan.window, deadline, known, onEvent)
      const { since = Number.NEGATIVE_INFINITY, until = Number.POSITIVE_INFINITY } = plan.window
      const reconciled = await reconcile(socket.neg, plan.window, state.seen.between(since, until), deadline, plan.negProbeMs)
      if (reconciled.ok) {
        const shown = await newest
        const need = new Set(reconciled.need)
        // what NIP-77 says the relay holds: what we lack of it, and what we have that it does not lack
        const holds = (id: string) => need.has(id) || (known(id) && !reconciled.lacks.has(id))
        const hidden = shown.ids.filter((id) => !holds(id))
        if (hidden.length === 0) {
          opts.log(`${socket.url} NIP-77: ${need.size} gift wraps to fetch (${reconciled.rounds} rounds)`)
          note(socket.url, { negentropy: 'ok', top: now })
          for (const id of shown.ids) need.delete(id) // came with the cross-check
          return fetchIds(socket, plan.window, [...need], deadline, onEvent)
        }
        opts.log(
          `${socket.url} NIP-77 left out ${hidden.length} of the ${shown.ids.length} newest gift wraps a REQ shows: reading page by page`,
        )
        note(socket.url, { negentropy: 'untrusted' })
      } else if (reconciled.ended) return { url: socket.url, complete: false, reason: reconciled.reason }
      else {
        opts.log(`${socket.url} NIP-77 not used (${reconciled.reason}): reading page by page`)
        if (reconciled.behindAuth) note(socket.url, { negentropy: 'untrusted' })
        else if (reconciled.unsupported) note(socket.url, { negentropy: reconciled.silent ? 'silent' : 'unsupported' })
      }
    }
    return readOn(socket, plan.pages, deadline, onEvent, { known, log: opts.log, note: (pagedTo) => note(socket.url, { pagedTo }) })
  }

  const outcome = await pool.query(
    (url) => [planOf(url).window],
    {
      patient: opts.patient,
      known,
      // The wrap's signature is not checked (issue 13, point 6: ~30% of opening many): it is made
      // with a throw-away key and vouches for nothing; the seal's signature and the NIP-44 MACs
      // authenticate the content, and the id is still checked against the hash, so a forged wrap
      // can neither pass for another one nor carry anything a genuine seal did not.
      trusted: () => true,
      read: (socket, _filters, deadline, collect) => read(socket, deadline, collect),
    },
    opts.relays,
  )
  const results = outcome.results.map(
    (r) => ({ top: planOf(r.url).top, ...r, ...found.get(r.url), served: served.get(r.url) }) as WrapResult,
  )
  return { events: outcome.events, results }
}

/** The ids of the newest CROSS_CHECK_WRAPS gift wraps of `window`, read by REQ (new ones go to
 *  `onEvent` as any read's do). A relay's NIP-77 may answer from a view that leaves out what a
 *  REQ serves (strfry's, behind AUTH: ../shared/NOTES.md); a wrap it shows to one and not the
 *  other proves it. Nothing when the REQ did not complete (no proof either way). */
async function newestWraps(
  socket: RelaySocket,
  window: Filter,
  deadline: number,
  known: (id: string) => boolean,
  onEvent: (event: Event, isKnown: boolean) => void,
): Promise<{ ids: string[] }> {
  const ids: string[] = []
  const result = await socket.query(
    [{ ...window, limit: CROSS_CHECK_WRAPS }],
    deadline,
    (event, isKnown) => {
      ids.push(event.id)
      onEvent(event, isKnown)
    },
    { known },
  )
  return { ids: result.complete ? ids : [] }
}
