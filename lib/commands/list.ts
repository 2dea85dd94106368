// `list`: agents online now, newest first; `--find`: only those that match, asked of relays by
// the search tags they index, whatever the crowd.
import { findAgents, onlineAgents, speaksOnlyNip04 } from '../calls/agents.ts'
import { type CommandResult, usageError } from '../errors.ts'
import { LIST_SHOWN } from '../limits.ts'
import { npub, shortNpub } from '../nostr/keys.ts'
import type { PagedResult } from '../nostr/relay/pages.ts'
import type { Context } from '../session/context.ts'
import { withFound } from '../session/discovery.ts'
import { whileOnline } from '../session/online.ts'
import type { Online } from '../session/synced.ts'
import { unixNow } from '../timing.ts'
import { ago, table } from '../ui/format.ts'

/** `find`: only agents whose name, about or capabilities hold every one of its words; `max`: at
 *  most this many shown (the most recently seen), and how many more were seen. */
export async function list(ctx: Context, find?: string, max = LIST_SHOWN): CommandResult {
  if (!(Number.isInteger(max) && max > 0))
    throw usageError('bad-max', '--max is a whole number of agents, 1 or more', 'e.g. `node p2p.js list --max 20`')
  const wanted = find?.trim() || undefined
  const discovery = wanted ? { lookup: { words: wanted.split(/[\s,]+/) } } : { crowd: max }
  // printed once announcing is over: a failure there is reported alone, not after the list
  print(ctx, await whileOnline(ctx, { discovery }, async (online) => online), wanted, max)
}

function print(ctx: Context, online: Online, find: string | undefined, max: number): void {
  const now = unixNow()
  const all = onlineAgents(withFound(online.state, online.found), ctx.identity.pubkey, now, ctx.onlineWindow)
  const matched = find ? findAgents(all, find) : all
  const agents = matched.slice(0, max)
  const more = matched.length - agents.length
  // a crowd larger than what was read (discovery.ts readCrowd): there are more than we saw
  const beyond = online.outcome.results.some((r: PagedResult) => r.leftMore)
  const minutes = Math.round(ctx.onlineWindow / 60)
  const matching = find ? ` matching "${find}"` : ''
  const narrow = find ? 'add words to --find' : 'narrow with `node p2p.js list --find <words>`'
  ctx.out.result(
    {
      ...(more > 0 ? { more } : {}),
      ...(beyond ? { moreOnRelays: true } : {}),
      agents: agents.map((a) => ({
        npub: npub(a.pubkey),
        pubkey: a.pubkey,
        name: a.name,
        about: a.about,
        lastSeen: a.lastSeen,
        agentId: a.agentId,
        client: a.client ?? null,
        nip17: Boolean(a.nip17),
        nameShared: a.nameShared,
        capabilities: a.capabilities ?? [],
      })),
    },
    () =>
      agents.length === 0
        ? [
            find
              ? `no agent online${matching} (${all.length} online in the last ${minutes} min); try fewer or other words`
              : `no agents online (none announced in the last ${minutes} min); try again later, or ask the other agent to run \`node p2p.js status\``,
          ]
        : [
            `${matched.length}${beyond ? '+' : ''} agent${matched.length > 1 ? 's' : ''} online${matching} (announced in the last ${minutes} min)${more > 0 ? `, the ${agents.length} seen last` : ''}:`,
            ...table(
              agents.map((a) => [
                a.name + (a.nameShared ? ' (!)' : '') + (speaksOnlyNip04(a) ? ' (NIP-04)' : ''),
                shortNpub(a.pubkey),
                ago(a.lastSeen, now),
                a.about,
                a.capabilities?.length ? `[${a.capabilities.join(', ')}]` : '',
              ]),
              '  ',
            ),
            ...(more > 0 || beyond
              ? [
                  `… and ${more > 0 ? `${more} more seen` : 'more'}${beyond ? ' (the relays hold more announcements than one run reads)' : ''}: ${narrow}${more > 0 ? ', or show more with --max' : ''}`,
                ]
              : []),
            ...(agents.some((a) => a.nameShared) ? ['(!) several keys use this name: call by npub, not by name'] : []),
            ...(agents.some(speaksOnlyNip04)
              ? [
                  `(NIP-04) an agent of the original skill: calls with it ${ctx.legacy ? 'go over NIP-04 (legacy on)' : 'need `node p2p.js config set legacy on`'}`,
                ]
              : []),
          ],
  )
}
