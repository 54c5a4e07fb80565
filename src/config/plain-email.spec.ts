import { isPlainEmail } from './plain-email';

describe('isPlainEmail', () => {
  it.each(['camille@example.com', 'Gone.User@example.com', 'élodie@exemple.fr'])('accepts %j', (address) => {
    expect(isPlainEmail(address)).toBe(true);
  });

  it.each([
    '\u202eevil@example.com',
    'ev\u200bil@example.com',
    'evil@exa\u200dmple.com',
    '\ufeffevil@example.com',
    'evil\u2066@example.com',
    'evil\u061c@example.com',
    'evil@example.com\u200e',
  ])('refuses an address with an invisible or direction-changing character (%j)', (address) => {
    expect(isPlainEmail(address)).toBe(false);
  });
});

describe('isPlainEmail: one address, nothing a header could read as more', () => {
  it.each(['camille@example.com', 'camille.martin+trips@sub.example.co', 'support@voyages.test'])(
    'accepts %s',
    (address) => {
      expect(isPlainEmail(address)).toBe(true);
    },
  );

  it.each([
    'Camille <camille@example.com>',
    '"camille martin"@example.com',
    'camille(comment)@example.com',
    'friends: a@example.com, b@example.com;',
    'a@example.com,b@example.com',
    'a@example.com\r\nBcc: victim@evil.test',
    'a @example.com',
    'a@b@example.com',
    'nobody',
    `${'a'.repeat(250)}@example.com`,
    42,
  ])('refuses %j', (address) => {
    expect(isPlainEmail(address)).toBe(false);
  });
});
