/**
 * BENCH_PROFILE=1: the top self-time functions of a V8 `.cpuprofile` (written by `node --cpu-prof`),
 * only over the samples taken between two instants (the load of a row, not the start-up).
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface HotFunction {
  name: string;
  selfMs: number;
  percent: number;
}

/**
 * Self time per function (name, file, line), summed over the samples whose timestamp falls in
 * [fromUs, toUs] (CLOCK_MONOTONIC microseconds, as `process.hrtime` gives them); all samples
 * when none falls in that window.
 */
export function topFunctions(
  path: string,
  count: number,
  fromUs?: number,
  toUs?: number,
): { top: HotFunction[]; totalMs: number; idleMs: number; windowed: boolean } {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const sum = (windowed: boolean): Map<string, number> => {
    const self = new Map<string, number>();
    let time = profile.startTime;
    profile.samples.forEach((nodeId, index) => {
      const delta = profile.timeDeltas[index] ?? 0;
      time += delta;
      if (windowed && (time < (fromUs ?? -Infinity) || time > (toUs ?? Infinity))) return;
      const frame = frames.get(nodeId);
      if (!frame) return;
      const file = frame.url ? frame.url.replace(/^file:\/\//, '').replace(/^.*\/node_modules\//, '') : '';
      const key =
        `${frame.functionName || '(anonymous)'} ${file ? `${file.replace(/^.*\/dist\//, 'dist/')}:${frame.lineNumber + 1}` : ''}`.trim();
      self.set(key, (self.get(key) ?? 0) + delta);
    });
    return self;
  };
  let windowed = fromUs !== undefined;
  let self = sum(windowed);
  if (windowed && self.size === 0) {
    windowed = false;
    self = sum(false);
  }
  // Idle time is not the API's work: shown apart, out of the percentages.
  const idle = self.get('(idle)') ?? 0;
  self.delete('(idle)');
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const top = [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, us]) => ({ name, selfMs: us / 1000, percent: (us / total) * 100 }));
  return { top, totalMs: total / 1000, idleMs: idle / 1000, windowed };
}
