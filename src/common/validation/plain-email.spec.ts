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
