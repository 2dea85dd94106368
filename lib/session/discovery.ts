// Whose announcements a run asks for beyond its own and its peers': everyone's in the online
// window (`list`, `status`: the crowd, page by page), or only those that match (`list --find`,
// `call <name>`), asked for by the search tags relays index (nostr/presence.ts), so that a crowd
// of thousands neither hides a match nor makes the lookup slower. Other commands ask for neither.
import type { Filter } from 'nostr-tools/filter'
import { FIND_CROWD_LIMIT, MAX_PRESENCE_PAGES, MAX_SEARCH_TAGS, MAX_SEARCH_TOKEN, PAGE_LIMIT } from '../limits.ts'
import { PRESENCE_KIND, PRESENCE_TOPIC } from '../nostr/kinds.ts'
import { searchWord } from '../nostr/presence.ts'
import { readPages } from '../nostr/relay/pages.ts'
import type { QueryOutcome, RelayPool } from '../nostr/relay/pool.ts'
import type { AgentRecord, State } from '../store/schema.ts'
import { MAX_CLOCK_SKEW_S } from '../timing.ts'

export interface Discovery {
  /** everyone's announcements in the window, newest first, until more than this many keys
   *  announced (readCrowd) */
  crowd?: number
  /** the announcements that match, in one REQ beside the sync (`lookup` below) */
  lookup?: Lookup
}

/** What to look for: the words of `list --find`, or the name `call` was given. */
export type Lookup = { words: string[] } | { name: string }

/** Everyone's announcements in the window, newest first, page by page until more than `shown`
 *  keys announced (so that a list of `shown` agents knows there are more) or MAX_PRESENCE_PAGES
 *  pages: one page in a crowd of distinct keys, more when one key floods a page with
 *  announcements of its own (each under another `d`). */
export function readCrowd(pool: RelayPool, filter: Filter, shown: number, opts: CrowdOptions): Promise<QueryOutcome> {
  const keys = new Set<string>()
  return pool.query(
    [filter],
    {
      patient: opts.patient,
      read: (socket, filters, deadline, collect) =>
        readPages(
          socket,
          filters[0],
          deadline,
          (event, known) => {
            keys.add(event.pubkey)
            if (!known) collect(event)
          },
          MAX_PRESENCE_PAGES,
          { known: opts.known, log: opts.log, enough: () => keys.size > shown },
        ),
    },
    opts.relays,
  )
}

interface CrowdOptions {
  patient: string[]
  /** announcements already checked (their ids): not checked again */
  known: (id: string) => boolean
  relays: string[]
  log: (line: string) => void
}

/** The filters of a lookup, over the online window that ends `now`. `before`: the state the
 *  sync starts from (what it already knows of the crowd). */
export function lookupFilters(lookup: Lookup, before: State, now: number, window: number): Filter[] {
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
  // agents whose announcement has no search tags are matched by its content: among those an
  // earlier run saw (list, status), else among the newest few, read now
  const crowdSeen = Object.values(before.agents).some((a) => a.lastSeen >= now - window)
  return [
    ...(tokens.length ? [{ ...within, '#t': tokens.slice(0, MAX_SEARCH_TAGS), limit: PAGE_LIMIT }] : []),
    ...(crowdSeen ? [] : [{ ...within, '#t': [PRESENCE_TOPIC], limit: FIND_CROWD_LIMIT }]),
  ]
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
