// Telling a running process from a reused pid: the system hands a freed pid to the next
// process, so a pid names a process only together with the time it started.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'

/** When process `pid` started, as the system says it (a token only compared, never read);
 *  undefined when no such process runs or the system does not say. */
export function processStart(pid: number): string | undefined {
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined
  if (process.platform === 'linux') {
    try {
      // field 22, in clock ticks since boot; the name (field 2) may hold spaces and ")": count after the last one
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]
    } catch {
      return undefined
    }
  }
  try {
    // elsewhere (macOS, the BSDs) ps says it, to the second; child_process is loaded only here:
    // the lock checks pids on every run, and loading it costs every run ~3.5 ms
    const { execFileSync } = createRequire(import.meta.url)('node:child_process') as typeof import('node:child_process')
    return (
      execFileSync('ps', ['-o', 'lstart=', '-p', String(pid)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() ||
      undefined
    )
  } catch {
    return undefined
  }
}

/** Whether the process that recorded `pid` (and its `start`, when it could) still runs. */
export function stillRuns(pid: number, start?: string): boolean {
  // 0 and below name process groups to kill(), not a process
  if (!Number.isSafeInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false
  }
  const now = start === undefined ? undefined : processStart(pid)
  return now === undefined || now === start
}
