// One run for unit specs (src, *.spec.ts) and end-to-end specs (test, *.e2e-spec.ts): the unit
// configuration (jest.unit.config.js) plus the e2e specs and the one Postgres they share.
const unit = require('./jest.unit.config');

module.exports = {
  ...unit,
  testMatch: [...unit.testMatch, '<rootDir>/test/**/*.e2e-spec.ts'],
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
};
