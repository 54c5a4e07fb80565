import { hasInvisibleCharacters } from '../../config/plain-email';
import { findTextProblems, isIdentifierField, MultiLine, textProblem } from './text-input';

class Nested {
  @MultiLine()
  content = '';
  title = '';
}

class Outer {
  name = '';
  @MultiLine()
  message = '';
  nested?: Nested;
  tags: string[] = [];
}

function build<T extends object>(type: new () => T, values: Partial<T>): T {
  return Object.assign(new type(), values);
}

describe('textProblem', () => {
  it.each(['plain text', 'accents é à ü, emoji 😀, CJK 漢字', ''])('accepts %j', (text) => {
    expect(textProblem(text)).toBeNull();
  });

  it.each(['a\u0000b', 'a\u0001', 'tab\there', 'line\nbreak', 'cr\rhere', 'esc\u001b[0m', 'del\u007f'])(
    'refuses %j in a single-line value',
    (text) => {
      expect(textProblem(text)).toMatch(/control characters/);
    },
  );

  it('allows tab, CR and LF in a multi-line value, but no other control character', () => {
    expect(textProblem('a\r\n\tb', true)).toBeNull();
    expect(textProblem('a\u0000b', true)).toMatch(/control characters/);
    expect(textProblem('a\u000bb', true)).toMatch(/control characters/);
  });

  it.each(['\ud800', 'a\udc00b', 'end\ud83d', '\ude00start'])('refuses the lone surrogate in %j', (text) => {
    expect(textProblem(text)).toMatch(/surrogate/);
  });

  it('accepts a surrogate pair', () => {
    expect(textProblem('\ud83d\ude00')).toBeNull();
  });
});

describe('findTextProblems', () => {
  it('names each bad value by its path, keys included, with where it was read', () => {
    const value = build(Outer, {
      name: 'Eve\r\nBcc: x',
      message: 'fine\nmulti-line',
      nested: build(Nested, { content: 'ok\n', title: 'bad\n' }),
      tags: ['ok', 'b\u0000d'],
    });
    Object.assign(value, { variables: { good: 'x', ['k\u0000']: 'v', nestedMap: { inner: 'a\ud800' } } });
    const problems = findTextProblems(value, 'body');
    expect(problems.map((p) => p.field)).toEqual([
      'name',
      'nested.title',
      'tags[1]',
      'variables.k\u0000',
      'variables.nestedMap.inner',
    ]);
    expect(problems.every((p) => p.location === 'body')).toBe(true);
  });

  it('names a bare value by the parameter it came from', () => {
    expect(findTextProblems('a\u0000', 'path', 'recipientId')).toEqual([
      expect.objectContaining({ field: 'recipientId', location: 'path' }),
    ]);
    expect(findTextProblems({ receiverId: 'x\u0000' }, 'query')).toEqual([
      expect.objectContaining({ field: 'receiverId', location: 'query' }),
    ]);
  });

  it('stops at 20 problems, whatever the size of the input', () => {
    expect(
      findTextProblems(
        Array.from({ length: 100_000 }, () => '\u0000'),
        'body',
        'items',
      ),
    ).toHaveLength(20);
  });

  it('walks deep values without recursion', () => {
    let deep: unknown = 'bottom\u0000';
    for (let i = 0; i < 50; i++) deep = { a: deep };
    expect(findTextProblems(deep, 'body')).toHaveLength(1);
  });
});

describe('ids and addresses: no invisible or direction-changing character', () => {
  // Bidirectional controls, zero-width characters, BOM, Arabic letter mark, Mongolian vowel
  // separator, word joiner, soft hyphen, line and paragraph separators, a C1 control, a tag character.
  const invisible = [
    '\u202a',
    '\u202b',
    '\u202c',
    '\u202d',
    '\u202e',
    '\u2066',
    '\u2067',
    '\u2068',
    '\u2069',
    '\u200b',
    '\u200c',
    '\u200d',
    '\u200e',
    '\u200f',
    '\ufeff',
    '\u061c',
    '\u180e',
    '\u2060',
    '\u00ad',
    '\u2028',
    '\u2029',
    '\u0085',
    '\u{e0041}',
  ];

  it.each(invisible.map((c) => [`U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`, c]))(
    'finds %s',
    (_name, c) => {
      expect(hasInvisibleCharacters(`evil${c}@example.com`)).toBe(true);
    },
  );

  it.each(['user-42', 'Gone.User@example.com', 'r-éèà', 'usr_漢字', 'مستخدم-7', '😀'])('accepts %j', (text) => {
    expect(hasInvisibleCharacters(text)).toBe(false);
  });

  it('knows ids and addresses by their names', () => {
    for (const name of [
      'id',
      'receiversId',
      'receiverId',
      'publicationId',
      'tripPublicationId',
      'lastReadMessageId',
      'email',
      'mail',
      'participants',
      'recipientId',
    ]) {
      expect([name, isIdentifierField(name)]).toEqual([name, true]);
    }
    for (const name of [
      'name',
      'object',
      'message',
      'content',
      'note',
      'description',
      'tripReference',
      'firstName',
      'variables',
      'invalid',
      'paid',
    ]) {
      expect([name, isIdentifierField(name)]).toEqual([name, false]);
    }
  });

  it('refuses them in ids and addresses at any depth, and keeps them in free text (RTL names, emoji sequences)', () => {
    const value = build(Outer, { name: 'Dana \u200fשלום\u200f', message: 'ok \u202bمرحبا\u202c 👩\u200d💻' });
    Object.assign(value, {
      receiversId: ['user-1', 'user\u200b2'],
      email: '\u202eevil@example.com',
      nested: { customerId: 'c\ufeff' },
      participants: ['agent\u2066'],
    });
    const problems = findTextProblems(value, 'body');
    expect(problems.map((p) => p.field).sort()).toEqual([
      'email',
      'nested.customerId',
      'participants[0]',
      'receiversId[1]',
    ]);
    expect(problems.every((p) => /invisible/.test(p.issue))).toBe(true);
  });

  it('refuses them in a path or query value named as an id', () => {
    expect(findTextProblems('a\u200bb', 'path', 'recipientId')).toEqual([
      expect.objectContaining({ field: 'recipientId', location: 'path' }),
    ]);
    expect(findTextProblems('\u202eevil@example.com', 'path', 'email')).toHaveLength(1);
    expect(findTextProblems({ receiverId: 'x\u200f' }, 'query')).toEqual([
      expect.objectContaining({ field: 'receiverId', location: 'query' }),
    ]);
    expect(findTextProblems('Dana \u200f', 'path', 'category')).toEqual([]);
  });
});
