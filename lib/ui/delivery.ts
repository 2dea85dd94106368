// How a delivery reads: its JSON keys, one line per relay, and what to do when it is queued.
import type { FailureKind } from '../errors.ts'
import { shownLine } from '../sanitize.ts'
import type { Output } from './output.ts'

/** What a delivery result must say to be printed (session/deliver.ts makes them). */
interface Delivery {
  relays: Array<{ url: string; ok: boolean; reason?: string }>
  /** on a relay the recipient reads (session/deliver.ts) */
  delivered: boolean
  /** still in the outbox, retried by later runs */
  queued: boolean
  /** refused for good by every relay of the peer: kept in the outbox, not retried */
  failed: boolean
  /** where the relays came from: its NIP-17 inbox list, its NIP-65 read relays, or neither (ours) */
  inboxSource: 'nip17' | 'nip65' | 'ours'
}

const relayLines = (d: Delivery): string[] =>
  d.relays.map((r) => `  ${r.ok ? '✓' : '✗'} ${r.url}${r.ok ? '' : `  ${shownLine(r.reason ?? 'refused')}`}`)

/** Prints the command's result with the delivery's relays; `after` shows only when delivered.
 *  A queued or refused delivery is a network failure (exit 4): the caller must not send it again.
 *  One on our relays only, for want of any inbox list of the recipient's, is done (exit 0: no
 *  later run could do better), and says plainly that it may never be read. */
export function printDelivery(
  out: Output,
  doc: object,
  delivery: Delivery,
  what: string,
  lines: string[],
  after: string[] = [],
): FailureKind | undefined {
  const { relays, delivered, queued, failed, inboxSource } = delivery
  const inboxListed = inboxSource !== 'ours'
  out.result({ ...doc, relays, delivered, queued, failed, inboxSource, inboxListed }, () => [
    ...lines,
    ...relayLines(delivery),
    ...(queued ? queuedNotice(what) : failed ? refusedNotice(what) : delivered ? after : unlistedNotice(what)),
  ])
  return delivery.queued || delivery.failed ? 'network' : undefined
}

const queuedNotice = (what: string): string[] => [
  `no relay of the peer accepted the ${what}: it is queued and will be retried by every later run`,
  '(do not send it again; `node p2p.js outbox` shows the queue)',
]

const unlistedNotice = (what: string): string[] => [
  `the recipient publishes no inbox list (kind 10050 or 10002) on our relays or the indexers:`,
  `the ${what} went to our relays only, and the recipient may never see it`,
]

const refusedNotice = (what: string): string[] => [
  `every relay of the peer refused the ${what} for good (see the reasons above): it is not retried`,
  '(`node p2p.js outbox` shows it; `node p2p.js outbox drop <id>` removes it)',
]
