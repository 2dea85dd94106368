// What one sync leaves a command to act on: the pool still open, what the relays returned and
// which were not read in full, and the state after it. Its own module so that the modules a run
// goes through (sync, announce, indexers) and the one that runs them (online.ts) all depend on it,
// and not on each other.

import type { Event } from 'nostr-tools/pure'
import type { Applied } from '../calls/inputs.ts'
import type { LiveFeed } from '../nostr/relay/live.ts'
import type { PublishStatus, QueryOutcome, QueryResult, RelayPool, RelayReport } from '../nostr/relay/pool.ts'
import type { AgentRecord, State } from '../store/schema.ts'
import type { RelayWarning } from '../ui/output.ts'
import type { SyncSummary } from './fold.ts'

/** What one sync left: the pool (still open), what relays returned, and the state after it. */
export interface Online {
  pool: RelayPool
  /** announcements and our own lists, with the relays that served each */
  outcome: QueryOutcome
  /** per relay: whether it served our gift wraps in full */
  wrapResults: QueryResult[]
  reports: RelayReport[]
  /** our relays this sync did not read in full: said by every command (Output.unread) */
  unread: RelayWarning[]
  state: State
  /** the agents a lookup or the crowd read found (discovery.ts): the command's answer, whatever
   *  the state kept of them */
  found: AgentRecord[]
  summary: SyncSummary
  applied: Applied
  /** the live feed, when asked for */
  live?: LiveFeed
  /** our presence, published beside the sync where the state said it was due (announce.ts):
   *  each relay's publish apart, so that one that never connected holds nothing up */
  early?: Promise<{ event?: Event; published: Record<string, Promise<PublishStatus>> }>
}
