import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const ROOT = join(__dirname, '..');

/**
 * `npm start` builds only when something the build reads changed since the last build, else starts
 * what is built. Shown on a small project of its own: the real scripts/start.js and build.js, a
 * stand-in for `nest build` that records each build, and a stand-in service that says it started.
 */
describe('npm start: builds when the sources changed, otherwise starts what is built', () => {
  const project = mkdtempSync(join(tmpdir(), 'communication-npm-start-'));
  const builds = join(project, 'builds.log');

  function write(path: string, text: string): void {
    mkdirSync(dirname(join(project, path)), { recursive: true });
    writeFileSync(join(project, path), text);
  }

  /** Sets a file's or folder's modification time `secondsAgo` in the past. */
  function age(path: string, secondsAgo: number): void {
    const time = new Date(Date.now() - secondsAgo * 1000);
    utimesSync(join(project, path), time, time);
  }

  /** `npm start` there: what it printed and how many builds it ran. */
  function start(): { output: string; builds: number } {
    const output = execFileSync(process.execPath, [join(project, 'scripts', 'start.js')], {
      cwd: project,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return { output, builds: readFileSync(builds, 'utf8').split('\n').filter(Boolean).length };
  }

  beforeAll(() => {
    for (const script of ['start.js', 'build.js']) {
      mkdirSync(join(project, 'scripts'), { recursive: true });
      copyFileSync(join(ROOT, 'scripts', script), join(project, 'scripts', script));
    }
    write('src/main.ts', 'export {};\n');
    write('src/delivery/templates/layout.mjml', '<mjml></mjml>\n');
    write('migrations/1-init.ts', 'export {};\n');
    for (const file of ['package.json', 'package-lock.json', 'nest-cli.json', 'tsconfig.json', 'tsconfig.build.json'])
      write(file, '{}\n');
    writeFileSync(builds, '');
    // `nest build`: empties dist/ (deleteOutDir) and writes the service, which says it started.
    write(
      'node_modules/@nestjs/cli/bin/nest.js',
      `const fs = require('node:fs');
       fs.appendFileSync(${JSON.stringify(builds)}, process.argv.slice(2).join(' ') + '\\n');
       fs.rmSync('dist', { recursive: true, force: true });
       fs.mkdirSync('dist/src', { recursive: true });
       fs.writeFileSync('dist/src/main.js', "process.stdout.write('service started\\\\n');");`,
    );
  });

  afterAll(() => rmSync(project, { recursive: true, force: true }));

  it('builds when nothing is built yet (a fresh clone), then starts', () => {
    expect(start()).toEqual({
      output: expect.stringMatching(/Building \(nothing built yet\)[\s\S]*service started\n$/),
      builds: 1,
    });
  });

  it('starts what is built when nothing changed since', () => {
    expect(start()).toEqual({ output: 'service started\n', builds: 1 });
  });

  it('builds again when a source, a template, a migration or a compiler setting changed, and names it', () => {
    for (const [path, builds] of [
      ['src/main.ts', 2],
      ['src/delivery/templates/layout.mjml', 3],
      ['migrations/1-init.ts', 4],
      ['tsconfig.json', 5],
      ['package.json', 6],
    ] as const) {
      write(path, path.endsWith('.json') ? `{ "changed": ${builds} }\n` : `// changed ${builds}\n`);
      expect(start()).toEqual({
        output: expect.stringMatching(new RegExp(`^Building \\(${path.replace(/\./g, '\\.')} changed\\)`)),
        builds,
      });
      expect(start()).toEqual({ output: 'service started\n', builds });
    }
  });

  it('builds again when a source was deleted, although every file left is older than the build', () => {
    write('src/old.ts', 'export {};\n');
    age('src/old.ts', 60);
    start();
    const before = start().builds;
    unlinkSync(join(project, 'src', 'old.ts'));
    expect(start()).toEqual({ output: expect.stringMatching(/^Building \(src changed\)/), builds: before + 1 });
  });

  it('builds again when the last build was made by another command (no stamp of ours)', () => {
    execFileSync(process.execPath, [join(project, 'node_modules', '@nestjs', 'cli', 'bin', 'nest.js'), 'build'], {
      cwd: project,
    });
    const before = readFileSync(builds, 'utf8').split('\n').filter(Boolean).length;
    expect(start()).toEqual({
      output: expect.stringMatching(/^Building \(no build stamp in dist\/\)/),
      builds: before + 1,
    });
  });
});
