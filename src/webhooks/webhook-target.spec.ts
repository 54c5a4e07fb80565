import { checkTarget, forbiddenAddress, Resolver, TargetRefused } from './webhook-target';

/** Pure checks with a stubbed resolver: nothing here opens a connection or asks a DNS server. */
describe('webhook target check', () => {
  const production = { allowPrivateTargets: false, requireHttps: true };
  const strict = { allowPrivateTargets: false, requireHttps: false };
  const local = { allowPrivateTargets: true, requireHttps: false };
  const resolvingTo =
    (...addresses: string[]): Resolver =>
    async () =>
      addresses;
  const noDns: Resolver = async (hostname) => {
    throw new Error(`no DNS in unit tests (${hostname})`);
  };

  it.each([
    '10.0.0.1',
    '10.255.255.255',
    '172.16.0.1',
    '172.31.255.254',
    '192.168.1.10',
    '127.0.0.1',
    '127.255.0.9',
    '169.254.169.254',
    '169.254.0.1',
    '100.100.100.200',
    '0.0.0.0',
    '224.0.0.1',
    '255.255.255.255',
    '198.18.0.1',
    '::1',
    '::',
    'fc00::1',
    'fd00:ec2::254',
    'fe80::1',
    'fe80::1%eth0',
    'ff02::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '0:0:0:0:0:ffff:a00:1',
    '::ffff:169.254.169.254',
    '64:ff9b::a9fe:a9fe',
    '::7f00:1',
    '2001:db8::1',
  ])('refuses %s', (address) => {
    expect(forbiddenAddress(address)).not.toBeNull();
  });

  it.each([
    '93.184.216.34',
    '8.8.8.8',
    '172.32.0.1',
    '172.15.255.255',
    '192.169.0.1',
    '11.0.0.1',
    '2606:4700::1111',
    '::ffff:93.184.216.34',
  ])('allows the public address %s', (address) => {
    expect(forbiddenAddress(address)).toBeNull();
  });

  it.each([
    ['http://10.1.2.3/hook', '10.1.2.3'],
    ['http://169.254.169.254/latest/meta-data/', '169.254.169.254'],
    ['http://[fd00:ec2::254]/', 'fd00:ec2::254'],
    ['http://0xa9.0xfe.0xa9.0xfe/', '169.254.169.254'],
    ['http://2852039166/', '169.254.169.254'],
    ['http://[::ffff:a9fe:a9fe]/', '::ffff:a9fe:a9fe'],
  ])('refuses the literal target %s without resolving it', async (url, address) => {
    await expect(checkTarget(url, strict, noDns)).rejects.toThrow(
      new TargetRefused(`resolves to ${address}, which ${forbiddenAddress(address)}`),
    );
  });

  it.each([
    ['metadata.internal', ['169.254.169.254']],
    ['intranet.example', ['192.168.0.7']],
    ['ula.example', ['fd12:3456::1']],
    ['mixed.example', ['93.184.216.34', '10.0.0.5']],
  ])('refuses %s, which resolves to a private address', async (host, addresses) => {
    await expect(checkTarget(`https://${host}/hook`, production, resolvingTo(...addresses))).rejects.toThrow(
      TargetRefused,
    );
  });

  it('gives the checked address to connect to, with the name kept for Host and TLS', async () => {
    const target = await checkTarget('https://hooks.example.com./in?x=1', production, resolvingTo('93.184.216.34'));
    expect(target).toMatchObject({ hostname: 'hooks.example.com', address: '93.184.216.34', family: 4, port: 443 });
    expect(target.url.pathname + target.url.search).toBe('/in?x=1');
  });

  it('requires https in production, whatever the private-target flag says', async () => {
    await expect(checkTarget('http://hooks.example.com/', production, resolvingTo('93.184.216.34'))).rejects.toThrow(
      'must be an https URL',
    );
    await expect(
      checkTarget(
        'http://hooks.example.com/',
        { ...production, allowPrivateTargets: true },
        resolvingTo('93.184.216.34'),
      ),
    ).rejects.toThrow('must be an https URL');
  });

  it('refuses other schemes, credentials and unresolvable hosts', async () => {
    await expect(checkTarget('ftp://hooks.example.com/', strict, noDns)).rejects.toThrow(
      'must be an http or https URL',
    );
    await expect(checkTarget('file:///etc/passwd', strict, noDns)).rejects.toThrow('must be an http or https URL');
    await expect(checkTarget('https://user:pw@hooks.example.com/', strict, noDns)).rejects.toThrow(
      'must not carry credentials',
    );
    await expect(checkTarget('https://nowhere.example/', strict, noDns)).rejects.toThrow('cannot be resolved');
    await expect(checkTarget('not a url', strict, noDns)).rejects.toThrow('must be an absolute URL');
  });

  it('lets private targets through when they are allowed (local default)', async () => {
    await expect(checkTarget('http://127.0.0.1:8080/', local, noDns)).resolves.toMatchObject({
      address: '127.0.0.1',
      port: 8080,
    });
    await expect(checkTarget('http://intranet.example/', local, resolvingTo('10.0.0.5'))).resolves.toMatchObject({
      address: '10.0.0.5',
      port: 80,
    });
  });
});
