// Unit specs only (`npm run test:unit`): src/**/*.spec.ts, no database. No globalSetup, so no
// Postgres is started; jest.config.js runs these and the end-to-end specs together (`npm test`).
module.exports = {
  rootDir: '.',
  testEnvironment: 'node',
  moduleFileExtensions: ['js', 'json', 'ts'],
  transform: {
    '^.+\\.ts$': [
      'ts-jest',
      {
        tsconfig: 'tsconfig.json',
        // The same Swagger plugin as `nest build`, so the document tested is the one served.
        astTransformers: { before: ['<rootDir>/test/swagger-plugin.transformer.js'] },
      },
    ],
  },
  testMatch: ['<rootDir>/src/**/*.spec.ts'],
  testTimeout: 60_000,
};
