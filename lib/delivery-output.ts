// How a delivery reads in plain output: one line per relay, and what to do when it is queued.
import type { Delivery } from './deliver.ts'

export const relayLines = (d: Delivery): string[] =>
  d.relays.map((r) => `  ${r.ok ? '✓' : '✗'} ${r.url}${r.ok ? '' : `  ${r.reason ?? 'refused'}`}`)

export const queuedNotice = (what: string): string[] => [
  `no relay of the peer accepted the ${what}: it is queued and will be retried by every later run`,
  '(do not send it again; `node p2p.js status` shows the queue)',
]
