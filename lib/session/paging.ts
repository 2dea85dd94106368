// Reads that go back in time page by page, per relay and across runs (gift wraps where NIP-77 is
// not used, NIP-04 DMs): where a relay's read starts, where an unfinished one goes on, and how a
// read moves the relay's cursor. The cursor moves only once every page down to it was read, so a
// flood newer than a real message can delay it (the next run goes on from where this one
// stopped) but never hide it.
import type { Filter } from 'nostr-tools/filter'
import type { Event } from 'nostr-tools/pure'
import { MAX_PAGES } from '../limits.ts'
import { readPages } from '../nostr/relay/pages.ts'
import type { RelayPool } from '../nostr/relay/pool.ts'
import type { QueryResult, RelaySocket } from '../nostr/relay/socket.ts'

/** A read a run left unfinished: it stands for everything published before `top`, and has read
 *  everything dated after `until`; the next run goes on from `until` (inclusive); `served`: the
 *  newest date the relay served it so far. */
export interface Paging {
  top: number
  until: number
  served?: number
}

/** One relay's read, as it folds into its cursor. */
export interface PagedRead extends QueryResult {
  /** when complete: everything published before this time is read (the relay's new cursor,
   *  unless the relay served nothing that new: see `served`) */
  top: number
  /** the date of the newest event the relay served in this read, if any */
  served?: number
  /** a read that stopped short: everything dated after this was read */
  pagedTo?: number
}

export interface PagePlan {
  /** where reading starts: the newest page, or where an unfinished read stopped */
  pages: Filter
  /** what a complete read stands for (its cursor then): when that read began */
  top: number
}

/** How one relay's read of `window` goes this run: on from an unfinished read that began after
 *  the relay's cursor last moved (a later one completed: it is over), else from the newest page. */
export function pagePlan(window: Filter, cursor: number | undefined, walk: Paging | undefined, now: number): PagePlan {
  const resumes = walk !== undefined && walk.top > (cursor ?? Number.NEGATIVE_INFINITY)
  return {
    pages: resumes ? { ...window, until: Math.min(walk.until, window.until ?? walk.until) } : window,
    top: resumes ? walk.top : now,
  }
}

/** A read moves its relay's cursor once complete, or keeps how far back an unfinished read got,
 *  for the next run to go on from there. The cursor stands for when the read began, by our
 *  clock, but never past the newest event the relay served (over all the runs of one read): a
 *  clock ahead must not move it past what is not published yet. A read served nothing moves
 *  nothing; a relay's first read has only the clock. */
export function foldPaging(cursor: number | undefined, walk: Paging | undefined, read: PagedRead): { cursor?: number; walk?: Paging } {
  const sameWalk = walk?.top === read.top
  const served = Math.max(read.served ?? Number.NEGATIVE_INFINITY, (sameWalk && walk?.served) || Number.NEGATIVE_INFINITY)
  const none = Number.isFinite(served) ? Number.NEGATIVE_INFINITY : read.top
  const moved = read.complete ? Math.max(cursor ?? none, Math.min(read.top, served)) : cursor
  const at = moved ?? Number.NEGATIVE_INFINITY
  if (!read.complete && read.pagedTo !== undefined && read.top > at) {
    // overlapping runs reading on from the same place: the one that got further back counts
    const until = sameWalk && walk ? Math.min(walk.until, read.pagedTo) : read.pagedTo
    return { cursor: moved, walk: { top: read.top, until, ...(Number.isFinite(served) ? { served } : {}) } }
  }
  // over once the cursor passed it, or a read that began at or after it completed
  return { cursor: moved, walk: walk && (walk.top <= at || (read.complete && read.top >= walk.top)) ? undefined : walk }
}

interface ReadOpts {
  /** ids already processed: not checked again, not returned */
  known: (id: string) => boolean
  log: (line: string) => void
}

/** Reads `pages` on one relay, at most MAX_PAGES, saying after each page how far back it got
 *  (`note`: kept even when the pool gives up on the relay before this returns), and nothing once
 *  complete. */
export async function readOn(
  socket: RelaySocket,
  pages: Filter,
  deadline: number,
  onEvent: (event: Event, known: boolean) => void,
  opts: ReadOpts & { note: (pagedTo: number | undefined) => void },
): Promise<QueryResult> {
  opts.note(pages.until)
  const result = await readPages(socket, pages, deadline, onEvent, MAX_PAGES, { known: opts.known, log: opts.log, onPage: opts.note })
  if (result.complete) opts.note(undefined)
  return result
}

/** Reads every relay of the pool page by page as `planOf` says (their signatures checked). */
export async function readPaged(
  pool: RelayPool,
  planOf: (url: string) => PagePlan,
  opts: ReadOpts & { patient: string[]; relays: string[] },
): Promise<{ events: Event[]; results: PagedRead[] }> {
  const found = new Map<string, number | undefined>()
  const served = new Map<string, number>()
  const outcome = await pool.query(
    (url) => [planOf(url).pages],
    {
      patient: opts.patient,
      known: opts.known,
      read: (socket, [pages], deadline, collect) =>
        readOn(
          socket,
          pages,
          deadline,
          servedTo(served, socket.url, (event, known) => known || collect(event)),
          {
            ...opts,
            note: (to) => found.set(socket.url, to),
          },
        ),
    },
    opts.relays,
  )
  const results = outcome.results.map((r) => ({
    top: planOf(r.url).top,
    ...r,
    ...(found.has(r.url) ? { pagedTo: found.get(r.url) } : {}),
    served: served.get(r.url),
  }))
  return { events: outcome.events, results }
}

/** `onEvent`, noting in `served` the newest date each relay served, known or not (foldPaging). */
export function servedTo(
  served: Map<string, number>,
  url: string,
  onEvent: (event: Event, known: boolean) => void,
): (event: Event, known: boolean) => void {
  return (event, known) => {
    served.set(url, Math.max(served.get(url) ?? event.created_at, event.created_at))
    onEvent(event, known)
  }
}
