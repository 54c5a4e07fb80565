import { FaultPostgres } from './fault-postgres';
import { FaultRelay } from './fault-relay';
import { ServiceProcess } from './service-process';

/**
 * What every fault spec file sets up: its own Postgres for the file, a fresh relay and database per
 * test, and the services a test started, killed after it whatever happened.
 */
export class FaultFixture {
  pg!: FaultPostgres;
  relay!: FaultRelay;
  databaseUrl!: string;
  private services: ServiceProcess[] = [];

  /** Registers beforeAll/beforeEach/afterEach/afterAll in the calling describe block. */
  static install(): FaultFixture {
    const fixture = new FaultFixture();
    beforeAll(async () => {
      fixture.pg = await FaultPostgres.start();
    });
    beforeEach(async () => {
      await fixture.pg.restart();
      fixture.databaseUrl = await fixture.pg.createDatabase();
      fixture.relay = new FaultRelay();
      await fixture.relay.start();
    });
    afterEach(async () => {
      await Promise.all(fixture.services.splice(0).map((service) => service.kill('SIGKILL')));
      await fixture.relay?.dispose();
    });
    afterAll(async () => {
      await fixture.pg?.dispose();
    });
    return fixture;
  }

  /** The environment of a service on this test's database and relay. */
  env(runMode: 'all' | 'api' | 'worker', extra: Record<string, string> = {}): Record<string, string> {
    return { DATABASE_URL: this.databaseUrl, SMTP_URL: this.relay.url, RUN_MODE: runMode, ...extra };
  }

  async start(
    name: string,
    runMode: 'all' | 'api' | 'worker',
    extra: Record<string, string> = {},
  ): Promise<ServiceProcess> {
    const service = await ServiceProcess.start(name, this.env(runMode, extra));
    this.services.push(service);
    return service;
  }

  /** The last lines of every process of the test, for a failure message. */
  logs(): string {
    return this.services.map((service) => service.lastLines()).join('\n\n');
  }
}
