// Whose announcements a run asks for beyond its own and its peers': everyone's in the online
// window (`list`, `status`: the crowd, page by page), or only those that match (`list --find`,
// `call <name>`), asked for by the search tags relays index (nostr/presence.ts), so that a crowd
// of thousands neither hides a match nor makes the lookup slower. Other commands ask for neither.
import type { Filter } from 'nostr-tools/filter'
import type { Event } from 'nostr-tools/pure'
import { FIND_CROWD_LIMIT, MAX_SEARCH_TAGS, MAX_SEARCH_TOKEN, PAGE_LIMIT } from '../limits.ts'
import { PRESENCE_KIND, PRESENCE_TOPIC } from '../nostr/kinds.ts'
import { parsePresence, searchWord } from '../nostr/presence.ts'
import type { AgentRecord, State } from '../store/schema.ts'
import { MAX_CLOCK_SKEW_S } from '../timing.ts'

export interface Discovery {
  /** everyone's announcements in the window, page by page */
  crowd?: boolean
  /** the announcements that match, in one REQ beside the sync (`lookup` below) */
  lookup?: Lookup
}

/** What to look for: the words of `list --find`, or the name `call` was given. */
export type Lookup = { words: string[] } | { name: string }

/** The filters of a lookup, over the online window that ends `now`. */
export function lookupFilters(lookup: Lookup, now: number, window: number): Filter[] {
  const within = { kinds: [PRESENCE_KIND], since: now - window, until: now + MAX_CLOCK_SKEW_S }
  if ('name' in lookup) {
    const named = [...new Set([lookup.name, searchWord(lookup.name)])]
    return [
      // the original skill's agents carry their name as `d` only; ours carry it as a search tag too
      { ...within, '#t': [PRESENCE_TOPIC], '#d': named, limit: PAGE_LIMIT },
      { ...within, '#t': [searchWord(lookup.name)], limit: PAGE_LIMIT },
    ]
  }
  const tokens = [...new Set(lookup.words.map(searchWord))].filter((t) => t && t.length <= MAX_SEARCH_TOKEN)
  return [
    ...(tokens.length ? [{ ...within, '#t': tokens.slice(0, MAX_SEARCH_TAGS), limit: PAGE_LIMIT }] : []),
    // agents whose announcement has no search tags are matched by its content, among the newest
    { ...within, '#t': [PRESENCE_TOPIC], limit: FIND_CROWD_LIMIT },
  ]
}

/** The agents a lookup's events announce (never ourselves). */
export function foundAgents(events: Event[], me: string, now: number): AgentRecord[] {
  return events.flatMap((event) => {
    const agent = event.pubkey === me ? null : parsePresence(event)
    return agent ? [{ ...agent, lastSeen: Math.min(agent.lastSeen, now) }] : []
  })
}

/** The state as the command sees it: with the agents a lookup found, newest announcement first
 *  (a crowd read in the same run may have pushed them out of the state's bounded list). */
export function withFound(state: State, found: AgentRecord[]): State {
  const agents = { ...state.agents }
  for (const agent of found) {
    const held = agents[agent.pubkey]
    if (!held || held.lastSeen < agent.lastSeen) agents[agent.pubkey] = agent
  }
  return { ...state, agents }
}
