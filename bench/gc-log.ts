/**
 * BENCH_GC=1: loaded into the service with `node --require` (never by the service itself). Records
 * every garbage-collection pause of the process as [start (ms since the epoch), duration (ms),
 * kind] and writes the list to BENCH_GC_LOG four times a second, for bench/gc-tail.ts to read.
 */
import { writeFileSync } from 'node:fs';
import { PerformanceObserver } from 'node:perf_hooks';
import type { NodeGCPerformanceDetail, PerformanceEntry } from 'node:perf_hooks';

const path = process.env.BENCH_GC_LOG;
if (path) {
  const pauses: Array<[number, number, number]> = [];
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      pauses.push([performance.timeOrigin + entry.startTime, entry.duration, kindOf(entry)]);
    }
  }).observe({ entryTypes: ['gc'] });
  setInterval(() => writeFileSync(path, JSON.stringify(pauses)), 250).unref();
}

/** The kind of a `gc` entry (perf_hooks.constants.NODE_PERFORMANCE_GC_*), in its `detail` since Node 16. */
function kindOf(entry: PerformanceEntry): number {
  return (entry as PerformanceEntry & { detail?: NodeGCPerformanceDetail }).detail?.kind ?? 0;
}
