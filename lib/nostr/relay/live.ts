// A live feed: one subscription per relay, open for the whole run (from before the first sync,
// so nothing that arrives meanwhile is missed), that says when something new came and hands
// it over, its signature checked. Live only (limit 0): what is stored is the sync's to read,
// and a relay whose subscription was cut (a flood, a CLOSED) is read by syncs from then on.
import type { Filter } from 'nostr-tools/filter'
import type { Event } from 'nostr-tools/pure'
import { verifyAll } from '../schnorr.ts'
import type { RelaySocket } from './socket.ts'

export type LiveOutcome = 'arrived' | 'timeout' | 'closed' | 'cut'

export interface LiveFeed {
  /** 'arrived' once an event not `known` has come and was not taken yet; then 'cut', once, when
   *  a connected relay's subscription ended early (sync to read what it holds); 'timeout' at
   *  `deadline`; 'closed' when no relay keeps the subscription open (dead, or it refused) */
  wait(deadline: number, known: (id: string) => boolean): Promise<LiveOutcome>
  /** some relay's subscription was cut: only syncs read it now */
  readonly partial: boolean
  /** The events that came since the last take, not `known`, each once, with a valid signature. */
  take(known: (id: string) => boolean): Promise<Event[]>
  close(): void
}

export function openLiveFeed(
  connections: Array<{ socket: RelaySocket; ready: Promise<boolean> }>,
  filters: Filter[],
  until: number,
  log: (line: string) => void,
): LiveFeed {
  // by id: the same event from several relays is handed over once
  let arrived = new Map<string, Event>()
  let open = connections.length
  /** subscriptions cut, and how many of those `wait` has said */
  let cut = 0
  let told = 0
  let wake = () => {}
  const live = filters.map((f) => ({ ...f, limit: 0 }))
  const subscriptions = connections.map(async ({ socket, ready }) => {
    try {
      if (await ready) {
        const result = await socket.query(
          live,
          until,
          (event) => {
            arrived.set(event.id, event)
            wake()
          },
          { live: true },
        )
        // ended by us or at the deadline, it is complete
        if (!result.complete) {
          log(`${socket.url} live subscription ended (${result.reason}): read by syncs from now on`)
          cut++
        }
      }
    } finally {
      open--
      wake()
    }
  })
  const forget = (known: (id: string) => boolean) => {
    for (const id of arrived.keys()) if (known(id)) arrived.delete(id)
  }
  return {
    get partial() {
      return cut > 0
    },
    async wait(deadline, known) {
      for (;;) {
        forget(known)
        if (arrived.size > 0) return 'arrived'
        if (told < cut) {
          told = cut
          return 'cut'
        }
        if (open === 0) return 'closed'
        const left = deadline - Date.now()
        if (left <= 0) return 'timeout'
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left)
          wake = () => {
            clearTimeout(timer)
            resolve()
          }
        })
      }
    },
    async take(known) {
      forget(known)
      const events = [...arrived.values()]
      arrived = new Map()
      const valid = await verifyAll(events)
      for (const [i, e] of events.entries()) if (!valid[i]) log(`dropped live event ${e.id.slice(0, 12)}: bad signature`)
      return events.filter((_e, i) => valid[i])
    },
    close() {
      for (const { socket } of connections) socket.closeQueries()
      void Promise.all(subscriptions)
    },
  }
}
