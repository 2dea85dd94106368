// A live feed: one subscription per relay, open for the whole run (from before the first sync,
// so nothing that arrives meanwhile is missed), that says when something new came. Live only
// (limit 0): what is stored is the sync's to read.
import type { Filter } from 'nostr-tools/filter'
import type { RelaySocket } from './socket.ts'

export type LiveOutcome = 'arrived' | 'timeout' | 'closed'

export interface LiveFeed {
  /** 'arrived' once an event not `known` has come since the feed opened; 'timeout' at
   *  `deadline`; 'closed' when no relay keeps the subscription open (dead, or it refused) */
  wait(deadline: number, known: (id: string) => boolean): Promise<LiveOutcome>
  close(): void
}

export function openLiveFeed(
  connections: Array<{ socket: RelaySocket; ready: Promise<boolean> }>,
  filters: Filter[],
  until: number,
): LiveFeed {
  const arrived: string[] = []
  let open = connections.length
  let wake = () => {}
  const live = filters.map((f) => ({ ...f, limit: 0 }))
  const subscriptions = connections.map(async ({ socket, ready }) => {
    try {
      if (await ready) {
        await socket.query(
          live,
          until,
          (event) => {
            arrived.push(event.id)
            wake()
          },
          { live: true },
        )
      }
    } finally {
      open--
      wake()
    }
  })
  return {
    async wait(deadline, known) {
      for (;;) {
        if (arrived.some((id) => !known(id))) return 'arrived'
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
    close() {
      for (const { socket } of connections) socket.closeQueries()
      void Promise.all(subscriptions)
    },
  }
}
