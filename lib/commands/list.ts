// `list`: agents online now, newest first.
import { findAgents, onlineAgents, speaksOnlyNip04 } from '../calls/agents.ts'
import type { CommandResult } from '../errors.ts'
import { npub, shortNpub } from '../nostr/keys.ts'
import type { Context } from '../session/context.ts'
import { whileOnline } from '../session/online.ts'
import type { Online } from '../session/synced.ts'
import { unixNow } from '../timing.ts'
import { ago, table } from '../ui/format.ts'

/** `find`: only agents whose name, about or capabilities hold every one of its words. */
export async function list(ctx: Context, find?: string): CommandResult {
  // printed once announcing is over: a failure there is reported alone, not after the list
  print(ctx, await whileOnline(ctx, {}, async (online) => online), find?.trim() || undefined)
}

function print(ctx: Context, online: Online, find: string | undefined): void {
  const now = unixNow()
  const all = onlineAgents(online.state, ctx.identity.pubkey, now, ctx.onlineWindow)
  const agents = find ? findAgents(all, find) : all
  const minutes = Math.round(ctx.onlineWindow / 60)
  const matching = find ? ` matching "${find}"` : ''
  ctx.out.result(
    {
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
            `${agents.length} agent${agents.length > 1 ? 's' : ''} online${matching} (announced in the last ${minutes} min):`,
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
            ...(agents.some((a) => a.nameShared) ? ['(!) several keys use this name: call by npub, not by name'] : []),
            ...(agents.some(speaksOnlyNip04)
              ? [
                  `(NIP-04) an agent of the original skill: calls with it ${ctx.legacy ? 'go over NIP-04 (legacy on)' : 'need `node p2p.js config set legacy on`'}`,
                ]
              : []),
          ],
  )
}
