// Fault-injection suite (`npm run test:faults`): the service as real child processes, a Postgres
// that is stopped and restarted, an SMTP relay that refuses, stalls or goes away. Kept apart from
// `npm test` (whose testMatch does not see *.fault-spec.ts) because it takes minutes.
module.exports = {
  rootDir: '.',
  testEnvironment: 'node',
  moduleFileExtensions: ['js', 'json', 'ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  testMatch: ['<rootDir>/test/faults/**/*.fault-spec.ts'],
  // Builds dist/ once: every service under test is `node dist/src/main.js`.
  globalSetup: '<rootDir>/test/faults/global-setup.ts',
  testTimeout: 180_000,
  // One spec file at a time: the faults are timed, and two cores shared by parallel files would blur them.
  maxWorkers: 1,
};
