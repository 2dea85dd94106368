// `list`: agents online now, newest first.
import type { Context } from '../context.ts'
import { connectAndSync, announceAndClose, requireRelay, unixNow } from '../online.ts'
import { onlineAgents } from '../agents.ts'
import { npub, shortNpub } from '../pubkey.ts'
import { table, ago } from '../output.ts'
import type { CommandResult } from '../errors.ts'

export async function list(ctx: Context): CommandResult {
  const online = await connectAndSync(ctx)
  await announceAndClose(ctx, online)
  requireRelay(online)

  const now = unixNow()
  const agents = onlineAgents(online.state, ctx.identity.pubkey, now, ctx.onlineWindow)
  const minutes = Math.round(ctx.onlineWindow / 60)
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
      })),
    },
    () =>
      agents.length === 0
        ? [`no agents online (none announced in the last ${minutes} min); try again later, or ask the other agent to run \`node p2p.js status\``]
        : [
            `${agents.length} agent${agents.length > 1 ? 's' : ''} online (announced in the last ${minutes} min):`,
            ...table(
              agents.map((a) => [a.name + (a.nameShared ? ' (!)' : ''), shortNpub(a.pubkey), ago(a.lastSeen, now), a.about]),
              '  ',
            ),
            ...(agents.some((a) => a.nameShared) ? ['(!) several keys use this name: call by npub, not by name'] : []),
          ],
  )
}
