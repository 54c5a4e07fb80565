import { IsInt, IsString, MaxLength, validateSync } from 'class-validator';
import { cacheValidationMetadata } from './metadata-cache';

class Base {
  @IsString()
  name: unknown;
}

class Child extends Base {
  @IsInt()
  count: unknown;
}

const broken = (object: object, groups?: string[]): string[] =>
  validateSync(object, groups ? { groups } : {})
    .map((error) => error.property)
    .sort();

describe('cacheValidationMetadata', () => {
  beforeAll(() => cacheValidationMetadata());

  it('keeps the inherited rules of a class, validation after validation', () => {
    for (let i = 0; i < 3; i++) {
      expect(broken(Object.assign(new Child(), { name: 1, count: 'x' }))).toEqual(['count', 'name']);
      expect(broken(Object.assign(new Base(), { name: 1, count: 'x' }))).toEqual(['name']);
    }
  });

  it('looks up a class defined after the first validations', () => {
    class Later extends Child {
      @MaxLength(2)
      code: unknown;
    }
    expect(broken(Object.assign(new Later(), { name: 'a', count: 1, code: 'abcd' }))).toEqual(['code']);
    expect(broken(Object.assign(new Child(), { name: 'a', count: 1, code: 'abcd' }))).toEqual([]);
  });

  it('keeps the answers of different groups apart', () => {
    class Grouped {
      @IsString({ groups: ['strict'] })
      label: unknown;
    }
    const value = Object.assign(new Grouped(), { label: 5 });
    expect(broken(value, ['strict'])).toEqual(['label']);
    expect(broken(value, ['other'])).toEqual([]);
    expect(broken(value, ['strict'])).toEqual(['label']);
  });
});
