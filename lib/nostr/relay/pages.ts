// Reading one filter page by page, newest first, past any relay's cap on one answer. A read that
// stops short (the deadline, the page budget, a slow relay given up on) says how far back it got,
// so that the next run can go on from there instead of starting again from the newest page.
import type { Filter } from 'nostr-tools/filter'
import type { Event } from 'nostr-tools/pure'
import { PAGE_LIMIT } from '../../limits.ts'
import type { QueryResult, RelaySocket } from './socket.ts'

export interface PagedResult extends QueryResult {
  /** when the read stopped short: every event dated after this was read; the rest (this second
   *  included) is read by a filter with this as its `until` */
  pagedTo?: number
  /** it stopped while the relay held more: it read as many pages as it may, or enough */
  leftMore?: true
}

/** What is known of a relay's cap on one answer, from earlier runs. */
export interface PageCaps {
  largestPage?: number
  maxLimit?: number
}

export function applyCaps(socket: RelaySocket, caps: PageCaps | undefined): void {
  socket.largestPage = Math.max(socket.largestPage, caps?.largestPage ?? 0)
  socket.maxLimit = Math.max(socket.maxLimit, caps?.maxLimit ?? 0)
}

interface PageOptions {
  /** ids already processed: not checked again */
  known?: (id: string) => boolean
  log?: (line: string) => void
  /** events asked for per page (default PAGE_LIMIT) */
  limit?: number
  /** after each page: where the read goes on from (what `pagedTo` would say if it stopped now) */
  onPage?: (until: number) => void
  /** after each page that was not the last: whether what was read is enough */
  enough?: () => boolean
}

/** Reads everything `filter` matches, at most `maxPages` pages. Each page ends where the previous
 *  one's oldest event was (`until` is inclusive: events of that second not yet served come in
 *  the next page), or just before it when a whole page fell in one second, so that a pile of
 *  events dated to the same second cannot stall the paging (a REQ cannot read past more events
 *  of one second than the relay serves at once; NIP-77 can). Complete when a page brings nothing
 *  new, or fewer events than asked for and than the relay's cap (its NIP-11 `max_limit`, else the
 *  most it has served for one filter before): it was not cut, so nothing is left (finding that
 *  out with one more page costs a round trip). */
export async function readPages(
  socket: RelaySocket,
  filter: Filter,
  deadline: number,
  onEvent: (event: Event, known: boolean) => void,
  maxPages: number,
  opts: PageOptions = {},
): Promise<PagedResult> {
  const fromThisRelay = new Set<string>()
  const fresh = () => ({ served: 0, fresh: 0, oldest: Number.POSITIVE_INFINITY, newest: Number.NEGATIVE_INFINITY })
  let page = fresh()
  const onPageEvent = (event: Event, known: boolean) => {
    page.served++
    page.oldest = Math.min(page.oldest, event.created_at)
    page.newest = Math.max(page.newest, event.created_at)
    if (!fromThisRelay.has(event.id)) page.fresh++
    fromThisRelay.add(event.id)
    onEvent(event, known)
  }
  let until = filter.until
  const stopped = (result: QueryResult): PagedResult => (until === undefined ? result : { ...result, pagedTo: until })
  for (let n = 0; n < maxPages; n++) {
    page = fresh()
    const limit = opts.limit ?? PAGE_LIMIT
    const result = await socket.query([{ ...filter, limit, ...(until === undefined ? {} : { until }) }], deadline, onPageEvent, {
      known: opts.known,
    })
    if (!result.complete) return stopped(result)
    const uncut = page.served < limit && page.served < Math.max(socket.largestPage, socket.maxLimit)
    socket.largestPage = Math.max(socket.largestPage, page.served)
    const oneSecond = page.oldest === page.newest
    if (page.served === 0 || uncut || (page.fresh === 0 && !oneSecond)) return result
    if (oneSecond) opts.log?.(`${socket.url} a whole page dated ${page.oldest}: reading on from the second before`)
    until = oneSecond ? page.oldest - 1 : page.oldest
    opts.onPage?.(until)
    if (opts.enough?.()) return { ...stopped({ url: socket.url, complete: false, reason: 'read enough' }), leftMore: true }
  }
  return { ...stopped({ url: socket.url, complete: false, reason: `more than ${maxPages} pages` }), leftMore: true }
}
