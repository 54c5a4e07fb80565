import { InboundAddresses } from './inbound-address';

const DELIVERY = '0b9f6c2e-5d1a-4c3e-9f7a-2b8d4e6f1a3c';
const addresses = new InboundAddresses('inbound.example.com', Buffer.from('a'.repeat(32)));

describe('InboundAddresses', () => {
  it('names a delivery in an address of 64 characters at most before the @, and reads it back', () => {
    for (const purpose of ['bounces', 'reply'] as const) {
      const address = addresses.address(purpose, DELIVERY);
      expect(address.split('@')[0].length).toBeLessThanOrEqual(64);
      expect(address.endsWith('@inbound.example.com')).toBe(true);
      expect(addresses.parse(address)).toEqual({ purpose, deliveryId: DELIVERY });
    }
  });

  it('reads an address whatever the case an MTA gave it', () => {
    expect(addresses.parse(addresses.address('reply', DELIVERY).toUpperCase())).toEqual({
      purpose: 'reply',
      deliveryId: DELIVERY,
    });
  });

  it('refuses a token made for the other purpose, another delivery, another key or another domain', () => {
    const bounce = addresses.address('bounces', DELIVERY);
    expect(addresses.parse(bounce.replace('bounces+', 'reply+'))).toBeNull();
    const token = bounce.slice('bounces+'.length, bounce.indexOf('@'));
    const otherId = (token[0] === '0' ? '1' : '0') + token.slice(1);
    expect(addresses.parse(`bounces+${otherId}@inbound.example.com`)).toBeNull();
    const otherKey = new InboundAddresses('inbound.example.com', Buffer.from('b'.repeat(32)));
    expect(otherKey.parse(bounce)).toBeNull();
    expect(addresses.parse(bounce.replace('inbound.example.com', 'example.com'))).toBeNull();
  });

  it('refuses what is not one of its addresses', () => {
    for (const address of [
      '',
      'support@inbound.example.com',
      'bounces@inbound.example.com',
      'bounces+@inbound.example.com',
      'bounces+zz@inbound.example.com',
      'no-at-sign',
      `reply+${'0'.repeat(52)}@inbound.example.com`,
    ]) {
      expect(addresses.parse(address)).toBeNull();
    }
  });
});
