/**
 * BENCH_GC=1: what the slowest requests of a row have in common with the service's garbage
 * collection, from the pauses bench/gc-log.ts recorded in the service and the end of each request.
 */
import { readFileSync } from 'node:fs';
import { constants } from 'node:perf_hooks';
import { fmt, LoadResult, percentile } from './harness';

/** A request ending this soon after a mark-compact began is counted as near it. */
const NEAR_MS = 60;

export function gcTail(logPath: string, result: LoadResult): string[] {
  // Folded rather than spread: a long run has more requests than a call takes arguments.
  const from = result.ends.reduce((first, end, i) => Math.min(first, end - result.latencies[i]), Infinity);
  const to = result.ends.reduce((last, end) => Math.max(last, end), -Infinity);
  const pauses = (JSON.parse(readFileSync(logPath, 'utf8')) as Array<[number, number, number]>).filter(
    ([start]) => start >= from && start <= to,
  );
  const minor = pauses.filter(([, , kind]) => kind === constants.NODE_PERFORMANCE_GC_MINOR);
  // A mark-compact pauses the process for its steps of incremental marking, its weak callbacks and its final pause.
  const major = pauses.filter(([, , kind]) => kind !== constants.NODE_PERFORMANCE_GC_MINOR);
  const majorStarts = pauses
    .filter(([, , kind]) => kind === constants.NODE_PERFORMANCE_GC_MAJOR)
    .map(([start]) => start);
  const near = (end: number): boolean => majorStarts.some((start) => end >= start && end - start <= NEAR_MS);
  const share = (ends: number[]): string => `${fmt((100 * ends.filter(near).length) / Math.max(1, ends.length))} %`;
  const p99 = percentile(result.latencies, 99);
  const slow = result.ends.filter((_, i) => result.latencies[i] >= p99);
  const longest = (list: Array<[number, number, number]>): number =>
    list.reduce((max, [, duration]) => Math.max(max, duration), 0);
  const sum = (list: Array<[number, number, number]>): number =>
    list.reduce((total, [, duration]) => total + duration, 0);
  const wall = (to - from) / 1000;
  return [
    `Garbage collection of the API during the POST /v1/mails rounds (BENCH_GC=1; ${fmt(wall, 1)} s from the first request to the last, the bare rounds included):`,
    `  scavenges: ${fmt(minor.length / wall)} a second, ${fmt(sum(minor))} ms in all, longest ${fmt(longest(minor), 1)} ms`,
    `  mark-compacts: ${fmt(majorStarts.length / wall, 1)} a second, their pauses ${fmt(sum(major))} ms in all, longest ${fmt(longest(major), 1)} ms`,
    `  requests ending within ${NEAR_MS} ms after a mark-compact began: ${share(slow)} of the ${fmt(slow.length)} at or over the p99 (${fmt(p99, 1)} ms), ${share(result.ends)} of all ${fmt(result.ends.length)}`,
  ];
}
