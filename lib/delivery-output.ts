// How a delivery reads: its JSON keys, one line per relay, what to do when it is queued, and
// the exit code (4 when queued).
import type { Delivery } from './deliver.ts'
import type { Context } from './context.ts'
import { EXIT, type ExitCode } from './errors.ts'

const relayLines = (d: Delivery): string[] =>
  d.relays.map((r) => `  ${r.ok ? '✓' : '✗'} ${r.url}${r.ok ? '' : `  ${r.reason ?? 'refused'}`}`)

/** Prints the command's result with the delivery's relays; `after` shows only when delivered. */
export function printDelivery(ctx: Context, doc: object, delivery: Delivery & { queued: boolean }, what: string, lines: string[], after: string[] = []): ExitCode {
  ctx.out.result({ ...doc, relays: delivery.relays, queued: delivery.queued }, () => [
    ...lines,
    ...relayLines(delivery),
    ...(delivery.queued ? queuedNotice(what) : after),
  ])
  return delivery.queued ? EXIT.network : EXIT.ok
}

const queuedNotice = (what: string): string[] => [
  `no relay of the peer accepted the ${what}: it is queued and will be retried by every later run`,
  '(do not send it again; `node p2p.js status` shows the queue)',
]
