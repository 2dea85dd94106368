// What a relay sends that we read at all: the checks every event passes before anything else
// sees it (its signature is checked later, in bulk, by the pool), and how much a REQ may bring.
import { type Filter, matchFilters } from 'nostr-tools/filter'
import { type Event, getEventHash, validateEvent } from 'nostr-tools/pure'
import { FLOOD_SLACK, MAX_LIVE_EVENTS, UNLIMITED_FILTER_EVENTS } from '../../limits.ts'
import { MAX_CLOCK_SKEW_S, unixNow } from '../../timing.ts'

/** How many events a REQ may bring before the relay counts as flooding: twice what its
 *  filters ask for, plus slack; a live one, what peers may send in a burst. */
export function eventBudget(filters: Filter[], live = false): number {
  if (live) return MAX_LIVE_EVENTS
  return 2 * filters.reduce((sum, f) => sum + (f.limit === 0 ? 0 : (f.limit ?? UNLIMITED_FILTER_EVENTS)), 0) + FLOOD_SLACK
}

/** A well-formed event, whose id is its hash, that matches what we asked for and is not dated
 *  ahead of our clock by more than a small skew. */
export function isAcceptable(event: unknown, filters: Filter[]): event is Event {
  if (!validateEvent(event)) return false
  const e = event as Event
  return typeof e.id === 'string' && e.created_at <= unixNow() + MAX_CLOCK_SKEW_S && matchFilters(filters, e) && getEventHash(e) === e.id
}
