import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readKnown } from '../lib/store/known-ids.ts'
import { parseState } from '../lib/store/parse.ts'
import { LOCK_STALE_MS } from '../lib/timing.ts'
import { KillAgent, type Printing, prng, type Run } from './helpers/kill-agent.ts'
import { startRelay, type TestRelay } from './helpers/relay.ts'

const SEED = Number(process.env.P2P_KILL_SEED) || Math.floor(Math.random() * 2 ** 31)
/** most killable runs are killed: each run costs CPU, and the kills are what is tested (a
 *  killed run that left no trace is run again, so every call still gets through) */
const killChance = () => 0.9
const TURNS = 5
const MIN_KILLS = 100
/** the commands the issue names: the count of their kills is what must reach MIN_KILLS */
const COUNTED = ['send', 'answer', 'end', 'poll']

let relays: TestRelay[]
beforeAll(async () => {
  relays = [await startRelay(), await startRelay()]
  console.log(`kills.test.ts seed ${SEED} (replay: P2P_KILL_SEED=${SEED})`)
})
afterAll(async () => {
  for (const r of relays ?? []) await r.stop()
})

interface CallPlan {
  id: string
  ender: KillAgent
  /** per agent name: the texts and files it queued */
  texts: Map<string, string[]>
  files: Map<string, Array<{ name: string; sha256: string }>>
}

const npubOf = new Map<KillAgent, string>()
const own = (doc: any, a: KillAgent) => doc.transcript.messages.filter((m: any) => m.from === npubOf.get(a))
/** A loop guard: true for `n` rounds, then it throws (the seed replays the failure). */
const tries = (what: string, n = 30) => {
  let left = n
  return () => {
    if (--left < 0) throw new Error(`${what}: still not done after ${n} tries (seed ${SEED})`)
    return true
  }
}
/** a poll's exit codes: 4 when no relay could be reached in time (a loaded machine) */
const POLLED = [0, 4]
const ok = (r: Run, codes = [0]) => expect(codes, `${r.args[0]} exit ${r.code}\n${r.stdout}\n${r.stderr}`).toContain(r.code)

/** A message, sent again only when a killed run left no trace of it in our transcript. */
async function send(a: KillAgent, plan: CallPlan, text: string): Promise<void> {
  for (const again = tries('send'); again(); ) {
    const r = await a.run(['send', text], { killable: true })
    if (!r.killed) ok(r, [0, 4]) // 4: queued, no relay took it in time (later runs send it), or no relay reached
    // killed, or no relay reached before it acted: the agent looks in its transcript; what is not
    // there was never queued, and is sent again
    if (r.code !== 0 && !own(await a.local(['history', plan.id]), a).some((m: any) => m.text === text)) continue
    plan.texts.get(a.name)?.push(text)
    return
  }
}

async function sendfile(a: KillAgent, plan: CallPlan, name: string, data: Buffer): Promise<void> {
  for (const again = tries('sendfile'); again(); ) {
    const r = await a.run(['sendfile', name, data.toString('base64')], { killable: true })
    if (!r.killed) ok(r, [0, 4])
    if (r.code !== 0 && !own(await a.local(['history', plan.id]), a).some((m: any) => m.file?.name === name)) continue
    plan.files.get(a.name)?.push({ name, sha256: createHash('sha256').update(data).digest('hex') })
    return
  }
}

/** Both agents poll (their runs may be killed) until `done` holds. Every fifth round is not
 *  killed: with nine runs in ten killed, mostly before they print, thirty rounds of killed polls
 *  could end with an event still waiting, unprinted but not lost (seen once: the accept in
 *  alice's journal, no lease on it). A round that cannot be killed must print it. */
async function pollUntil(agents: KillAgent[], done: () => boolean | Promise<boolean>, what: string): Promise<void> {
  let round = 0
  for (const again = tries(`${what} shown (lost?)`); again(); ) {
    if (await done()) return
    const killable = ++round % 5 !== 0
    const runs = await Promise.all(agents.map((a) => a.run(['poll'], { killable })))
    for (const r of runs) if (!r.killed) ok(r, POLLED)
  }
}

const printedHas = (a: KillAgent, type: string, callId: string) => a.printed().some((e) => e.type === type && e.callId === callId)

/** One call: alice calls, bob answers, both talk and send files, `ender` ends it. */
async function playCall(alice: KillAgent, bob: KillAgent, round: number, data: () => Buffer): Promise<CallPlan> {
  const topic = `round ${round}`
  let id = ''
  for (const again = tries('call'); !id && again(); ) {
    const r = await alice.run(['call', npubOf.get(bob) as string, topic], { killable: true })
    if (!r.killed) ok(r, [0, 4])
    id = r.code === 0 ? r.json().call.id : ((await alice.local(['history'])).calls.find((c: any) => c.topic === topic)?.id ?? '')
  }
  const plan: CallPlan = {
    id,
    ender: round % 2 ? bob : alice,
    texts: new Map([alice, bob].map((a) => [a.name, []])),
    files: new Map([alice, bob].map((a) => [a.name, []])),
  }
  await pollUntil([alice, bob], () => printedHas(bob, 'call-request', id), 'the call request')
  for (const again = tries('answer'); again(); ) {
    const r = await bob.run(['answer', 'accept', '--call', id], { killable: true })
    if (!r.killed) ok(r, [0, 4])
    if (r.code === 0 || (await bob.local(['history', id])).call.state === 'active') break
  }
  await pollUntil([alice, bob], () => printedHas(alice, 'call-accepted', id), 'the accept')
  for (let turn = 0; turn < TURNS; turn++) {
    await Promise.all(
      [alice, bob].map(async (a) => {
        await send(a, plan, `${a.name} ${round}.${turn}: ${'x'.repeat(turn * 7)}`)
        if (turn === (a === alice ? 1 : 2)) await sendfile(a, plan, `${a.name}-${round}-${turn}.bin`, data())
        const r = await a.run(['poll'], { killable: true })
        if (!r.killed) ok(r, POLLED)
      }),
    )
  }
  const ender = plan.ender
  for (const again = tries('end'); again(); ) {
    const r = await ender.run(['end'], { killable: true })
    if (!r.killed) ok(r, [0, 4])
    if (r.code === 0 || (await ender.local(['history', id])).call.state === 'ended') break
  }
  // `end` prints the whole transcript: the call's events count as shown to the ender from then on
  ended.set(ender, new Set([...(ended.get(ender) ?? []), id]))
  const other = ender === alice ? bob : alice
  await pollUntil([alice, bob], () => printedHas(other, 'call-ended', id), 'the end')
  return plan
}

/** Polls without kills until both outboxes are empty and a poll prints nothing. */
async function settle(agents: KillAgent[]): Promise<void> {
  for (const again = tries('settling', 15); again(); ) {
    const runs = await Promise.all(agents.map((a) => a.run(['poll'])))
    for (const r of runs) ok(r, POLLED)
    const queued = await Promise.all(agents.map(async (a) => (await a.local(['outbox'])).outbox.length))
    if (queued.every((n) => n === 0) && runs.every((r) => r.code === 0 && r.json().events.length === 0)) return
  }
}

const keyOf = (e: Record<string, any>) => `${e.type} ${e.callId} ${e.text ?? e.file?.sha256 ?? e.topic ?? ''}`

/** What each agent must have been shown, once: the call's events and the peer's words. */
function expectedEvents(plans: CallPlan[], peer: KillAgent, caller: boolean): string[] {
  return plans.flatMap((p) => [
    caller ? `call-accepted ${p.id} ` : `call-request ${p.id} round ${plans.indexOf(p) + 1}`,
    ...(p.texts.get(peer.name) ?? []).map((t) => `message ${p.id} ${t}`),
    ...(p.files.get(peer.name) ?? []).map((f) => `file ${p.id} ${f.sha256}`),
    ...(p.ender === peer ? [`call-ended ${p.id} `] : []),
  ])
}

/** The calls each agent ended itself (and so was shown whole by `end`). */
const ended = new Map<KillAgent, Set<string>>()

/** Printed more than once only when every printing but the last came from a poll killed
 *  before it marked the event printed; and such an event is always printed again. */
function checkPrintings(a: KillAgent): string[] {
  const problems: string[] = []
  const byKey = new Map<string, Printing[]>()
  for (const p of a.printings) byKey.set(keyOf(p.event), [...(byKey.get(keyOf(p.event)) ?? []), p])
  for (const [key, list] of byKey) {
    list.forEach((p, i) => {
      const last = i === list.length - 1
      if (!last && !(p.killed && p.settled === false))
        problems.push(
          `${a.name}: "${key}" printed by poll ${p.poll} (${p.killed ? 'killed after it settled' : 'not killed'}) and again by poll ${list[i + 1].poll}`,
        )
      if (last && p.killed && p.settled === false && !ended.get(a)?.has(p.event.callId))
        problems.push(`${a.name}: "${key}" left unsettled by killed poll ${p.poll}, never printed again`)
    })
  }
  return problems
}

function checkHome(a: KillAgent): void {
  const state = readFileSync(join(a.home, 'p2p-state.json'), 'utf8')
  expect(() => parseState(state)).not.toThrow()
  // the ids file the state names is there and whole (a kill may leave others beside it)
  const { knownIds } = JSON.parse(state)
  if (knownIds !== undefined) expect(() => readKnown(join(a.home, 'p2p-known'), knownIds)).not.toThrow()
  expect(readdirSync(a.home).filter((f) => f.includes('.corrupt-'))).toEqual([])
  expect(existsSync(join(a.home, 'p2p-state.lock')), `${a.name}: the state lock is still held`).toBe(false)
  const partial = join(a.home, 'p2p-files', '.partial')
  const chunks = existsSync(partial) ? readdirSync(partial).filter((f) => statSync(join(partial, f)).isDirectory()) : []
  expect(chunks, `${a.name}: unfinished chunk folders`).toEqual([])
}

describe('SIGKILLs at random moments', () => {
  it(`lose and duplicate nothing (at least ${MIN_KILLS} kills of send, answer, end and poll)`, async () => {
    const urls = relays.map((r) => r.url)
    const alice = new KillAgent('alice', urls, prng(SEED), killChance)
    const bob = new KillAgent('bob', urls, prng(SEED ^ 0x5bd1e995), killChance)
    for (const a of [alice, bob]) {
      ok(await a.run(['config', 'set', 'name', a.name]))
      ok(await a.run(['status']))
      npubOf.set(a, (await a.local(['whoami'])).npub)
    }
    const bytes = prng(SEED ^ 0x2545f491)
    // one file in three spans three chunks: a kill can land between them
    const data = () => randomBytesSeeded(bytes() < 0.33 ? 40_000 : 1 + Math.floor(bytes() * 3_000), bytes)
    const killed = (commands: string[]) => [alice, bob].flatMap((a) => a.kills).filter((k) => commands.includes(k.command)).length
    const counted = () => killed(COUNTED)
    const enough = () => counted() >= MIN_KILLS && COUNTED.every((c) => killed([c]) > 0)
    const plans: CallPlan[] = []
    for (let round = 1; round <= 10 && (round <= 3 || !enough()); round++) plans.push(await playCall(alice, bob, round, data))
    await settle([alice, bob])

    const kills = [alice, bob].flatMap((a) => a.kills)
    const tally = (f: (k: (typeof kills)[0]) => string) =>
      Object.fromEntries([...new Set(kills.map(f))].sort().map((v) => [v, kills.filter((k) => f(k) === v).length]))
    console.log(
      `kills.test.ts seed ${SEED}: ${kills.length} kills in ${plans.length} calls, ${alice.runs + bob.runs} runs; by command`,
      tally((k) => k.command),
      'by phase reached (aimed at)',
      Object.fromEntries(Object.entries(tally((k) => k.phase)).map(([p, n]) => [p, `${n} (${kills.filter((k) => k.aim === p).length})`])),
      `holding the lock ${kills.filter((k) => k.heldLock).length}; reprinted events`,
      [alice, bob].map((a) => a.printings.length - new Set(a.printings.map((p) => keyOf(p.event))).size),
    )
    expect(counted()).toBeGreaterThanOrEqual(MIN_KILLS)
    for (const command of COUNTED)
      expect(
        kills.some((k) => k.command === command),
        command,
      ).toBe(true)
    // the kills landed everywhere: in the sync, in the command's own update (under the lock), and
    // once an event was out (a publish takes a few ms on loopback: most land just after a relay
    // took it, before the outbox heard of it)
    for (const phase of ['syncing', 'acting'] as const)
      expect(
        kills.some((k) => k.phase === phase),
        phase,
      ).toBe(true)
    expect(kills.some((k) => k.phase === 'publishing' || k.phase === 'finishing')).toBe(true)
    expect(kills.some((k) => k.heldLock)).toBe(true)

    // nothing duplicated in print, nothing left unprinted
    expect([...checkPrintings(alice), ...checkPrintings(bob)]).toEqual([])
    for (const [me, peer, caller] of [
      [alice, bob, true],
      [bob, alice, false],
    ] as const) {
      const shown = [...new Set(me.printed().map(keyOf))].sort()
      const expected = expectedEvents(plans, peer, caller)
      // `end` printed its call whole and marked its events shown: those need not come by a poll
      const byEnd = (key: string) => ended.get(me)?.has(key.split(' ')[1]) === true
      expect(
        shown.filter((k) => !expected.includes(k)),
        `${me.name}'s polls printed what no call made`,
      ).toEqual([])
      expect(
        expected.filter((k) => !shown.includes(k) && !byEnd(k)),
        `${me.name}'s polls missed`,
      ).toEqual([])
    }

    // every transcript holds every queued message and file of both sides exactly once
    for (const plan of plans) {
      for (const a of [alice, bob]) {
        const doc = await a.local(['history', plan.id])
        expect(doc.call.state).toBe('ended')
        const texts = doc.transcript.messages.filter((m: any) => !m.file).map((m: any) => m.text)
        expect(texts.sort(), `${a.name}'s transcript of ${plan.id}`).toEqual([...plan.texts.values()].flat().sort())
        const files = doc.transcript.messages.filter((m: any) => m.file).map((m: any) => m.file)
        const sent = [...plan.files.values()].flat()
        expect(files.map((f: any) => `${f.name} ${f.sha256}`).sort()).toEqual(sent.map((f) => `${f.name} ${f.sha256}`).sort())
        for (const f of files) expect(createHash('sha256').update(readFileSync(f.path)).digest('hex')).toBe(f.sha256)
      }
    }

    for (const a of [alice, bob]) {
      checkHome(a)
      expect(Math.max(...a.localMs), `${a.name}: a run after a kill waited for the lock`).toBeLessThan(LOCK_STALE_MS)
    }
  }, 600_000) // about 60 s on a quiet 2-core machine; several times that on a loaded one
})

function randomBytesSeeded(n: number, rng: () => number): Buffer {
  const b = Buffer.alloc(n)
  for (let i = 0; i < n; i++) b[i] = Math.floor(rng() * 256)
  return b
}
