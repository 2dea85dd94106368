// `status`: relays reachable or not, who we are, the active call, calls waiting, what is new.
import { onlineAgents } from '../calls/agents.ts'
import { unpolled } from '../calls/journal.ts'
import { incomingCalls, liveCalls } from '../calls/queries.ts'
import { agentNames, callView, outboxView, visibility } from '../calls/views.ts'
import { type CommandResult, networkError } from '../errors.ts'
import { LIST_SHOWN } from '../limits.ts'
import { HELD_BACK } from '../nostr/relay/grace.ts'
import type { Context } from '../session/context.ts'
import { withFound } from '../session/discovery.ts'
import { whileOnline } from '../session/online.ts'
import type { Online } from '../session/synced.ts'
import { eventsOf } from '../session/transcripts.ts'
import { unixNow } from '../timing.ts'
import { ago, fromNow, relayError, table } from '../ui/format.ts'
import { describeCall, renderEvent, visibleLine } from '../ui/render.ts'

export async function status(ctx: Context): CommandResult {
  // printed once announcing is over: a failure there is reported alone, not after the status
  const online = await whileOnline(ctx, { requireRelay: false, discovery: { crowd: LIST_SHOWN } }, async (online) => online)
  // the state as announcing left it: where this agent is visible now
  return report(ctx, { ...online, state: await ctx.store.read() })
}

function report(ctx: Context, online: Online): 'network' | undefined {
  const { state, reports, summary } = online
  // the contract's activeCall: the call we are in or placing (ringing counts); with several,
  // none: a reader that takes it would act on one it guessed (they are all in activeCalls)
  const live = liveCalls(state)
  const active = live.length === 1 ? live[0] : undefined
  // with maxCalls > 1, all of them (the contract's activeCalls; ringing ones count too)
  const all = ctx.maxCalls > 1 ? live.map((c) => callView(c, state)) : undefined
  const doc = {
    npub: ctx.identity.npub,
    pubkey: ctx.identity.pubkey,
    name: ctx.name,
    relays: reports.map((r) => {
      const reads = online.outcome.results.filter((q) => q.url === r.url)
      const dms = online.wrapResults.find((q) => q.url === r.url)
      const failed = [dms, ...reads].find((q) => q && !q.complete)
      const health = state.relayHealth[r.url]
      return {
        url: r.url,
        connected: r.connected,
        synced: reads.length > 0 && reads.every((q) => q.complete) && Boolean(dms?.complete),
        // whether it served our DMs in full: a relay that keeps them behind an AUTH it refuses does not
        dms: Boolean(dms?.complete),
        dropped: r.dropped,
        ...(r.error ? { error: r.error } : r.connected && failed?.reason ? { error: failed.reason } : {}),
        ...(r.ms !== undefined ? { ms: r.ms } : {}),
        // answered nothing lately: tried in the background of each run until retryAt (Unix seconds)
        ...(health?.silentSince !== undefined ? { silentSince: health.silentSince, retryAt: health.retryAt ?? null } : {}),
      }
    }),
    activeCall: active ? callView(active, state) : null,
    ...(all ? { activeCalls: all, maxCalls: ctx.maxCalls } : {}),
    incomingCalls: incomingCalls(state).map((c) => callView(c, state)),
    agentsOnline: onlineAgents(withFound(state, online.found), ctx.identity.pubkey, unixNow(), ctx.onlineWindow).length,
    new: { agents: summary.newAgents.length, events: eventsOf(ctx, state, unpolled(state)) },
    presence: visibility(state, ctx.name, unixNow()),
    outbox: state.outbox.map(outboxView),
  }
  const names = agentNames(state)
  const reachable = reports.filter((r) => r.connected).length
  const offline =
    reachable === 0
      ? networkError(
          'no-relay-reachable',
          'no relay could be reached',
          'check the network, or name other relays (`node p2p.js status --relay wss://nos.lol`); offline, try a local relay: `npm run relay`, then `P2P_RELAYS=ws://127.0.0.1:7777 node p2p.js status`',
        )
      : undefined

  if (offline && ctx.out.json) {
    ctx.out.error(offline, doc)
    return 'network'
  }
  ctx.out.result(doc, () => [
    ...table([
      ['agent', `${ctx.name}  ${ctx.identity.npub}`],
      ['relays', `${reachable} of ${reports.length} reachable`],
      ['visible', visibleLine(doc.presence)],
    ]),
    ...table(
      doc.relays.map((r) => [
        r.connected ? (r.synced ? ctx.out.paint('green', '✓') : ctx.out.paint('yellow', '!')) : ctx.out.paint('red', '✗'),
        r.url,
        [
          r.connected ? `${r.ms} ms` : '',
          silence(r),
          r.error?.endsWith(HELD_BACK) ? '' : relayError(r.error),
          r.dropped ? `${r.dropped} bad messages dropped` : '',
        ]
          .filter(Boolean)
          .join(', '),
      ]),
      '          ',
    ),
    ...dmAdvice(doc.relays),
    ...table([
      all && all.length > 1
        ? ['calls', [`${all.length} (at most ${ctx.maxCalls}); name one with --call <id>`, ...all.map(describeCall)].join('\n          ')]
        : ['call', describeCall(doc.activeCall)],
      ['incoming', doc.incomingCalls.length ? doc.incomingCalls.map(describeCall).join('\n          ') : 'none'],
      [
        'online',
        `${doc.agentsOnline} agent${doc.agentsOnline === 1 ? '' : 's'}${doc.agentsOnline ? ' (`node p2p.js list`)' : ''}${doc.new.agents ? `, ${doc.new.agents} new` : ''}`,
      ],
      ['queued', queuedLine(doc.outbox)],
      [
        'new',
        doc.new.events.length
          ? `${doc.new.events.length} event${doc.new.events.length > 1 ? 's' : ''} (\`node p2p.js poll\` prints and clears them)`
          : 'nothing',
      ],
    ]),
    ...doc.new.events.flatMap((e) => renderEvent(e, names, unixNow())),
  ])
  if (!offline) return undefined
  ctx.out.error(offline)
  return 'network'
}

function queuedLine(outbox: Array<{ state: string }>): string {
  const failed = outbox.filter((e) => e.state === 'failed').length
  const waiting = outbox.length - failed
  if (!outbox.length) return 'nothing'
  const parts = [waiting ? `${waiting} not yet accepted by any relay, retried by later runs` : '', failed ? `${failed} given up` : '']
  return `${parts.filter(Boolean).join(', ')} (\`node p2p.js outbox\`)`
}

/** Relays that connect but do not serve our DMs (AUTH refused, DMs withheld): say so, and
 *  which relays to keep instead. */
function dmAdvice(relays: Array<{ url: string; connected: boolean; dms: boolean }>): string[] {
  const withheld = relays.filter((r) => r.connected && !r.dms).map((r) => r.url)
  if (withheld.length === 0) return []
  const serving = relays.filter((r) => r.dms).map((r) => r.url)
  const instead = serving.length
    ? `keep to relays that do: \`node p2p.js config set relays "${serving.join(' ')}"\``
    : 'add a relay that serves them: `node p2p.js config set relays "<url> …"`'
  return [`dms       not read in full from ${withheld.join(', ')}; ${instead}`]
}

/** A relay that answered nothing lately: since when, and when it is next waited for. */
function silence(r: { silentSince?: number; retryAt?: number | null }): string {
  if (r.silentSince === undefined) return ''
  const next = r.retryAt ? `, tried in the background until waited for again ${fromNow(r.retryAt)}` : ''
  return `answered nothing since ${ago(r.silentSince)}${next}`
}
