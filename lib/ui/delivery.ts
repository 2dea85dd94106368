// How a delivery reads: its JSON keys, one line per relay, and what to do when it is queued.
import type { FailureKind } from '../errors.ts'
import type { Output } from './output.ts'
import { shownLine } from './sanitize.ts'

/** What a delivery result must say to be printed (session/deliver.ts makes them). */
interface Delivery {
  relays: Array<{ url: string; ok: boolean; reason?: string }>
  /** still in the outbox, retried by later runs */
  queued: boolean
  /** refused for good by every relay of the peer: kept in the outbox, not retried */
  failed: boolean
}

const relayLines = (d: Delivery): string[] =>
  d.relays.map((r) => `  ${r.ok ? '✓' : '✗'} ${r.url}${r.ok ? '' : `  ${shownLine(r.reason ?? 'refused')}`}`)

/** Prints the command's result with the delivery's relays; `after` shows only when delivered.
 *  A queued or refused delivery is a network failure (exit 4): the caller must not send it again. */
export function printDelivery(
  out: Output,
  doc: object,
  delivery: Delivery,
  what: string,
  lines: string[],
  after: string[] = [],
): FailureKind | undefined {
  out.result({ ...doc, relays: delivery.relays, queued: delivery.queued, failed: delivery.failed }, () => [
    ...lines,
    ...relayLines(delivery),
    ...(delivery.queued ? queuedNotice(what) : delivery.failed ? refusedNotice(what) : after),
  ])
  return delivery.queued || delivery.failed ? 'network' : undefined
}

const queuedNotice = (what: string): string[] => [
  `no relay of the peer accepted the ${what}: it is queued and will be retried by every later run`,
  '(do not send it again; `node p2p.js outbox` shows the queue)',
]

const refusedNotice = (what: string): string[] => [
  `every relay of the peer refused the ${what} for good (see the reasons above): it is not retried`,
  '(`node p2p.js outbox` shows it; `node p2p.js outbox drop <id>` removes it)',
]
