import { ArrayMaxSize, IsString, validateSync, ValidateNested } from 'class-validator';
import { ArrayDistinct, oversizedArrays } from './array-rules';

class Inner {
  @ArrayMaxSize(2)
  items: unknown[] = [];
}

class Outer {
  @ArrayMaxSize(3)
  @ArrayDistinct()
  @IsString({ each: true })
  ids: unknown[] = [];

  @ValidateNested()
  inner = new Inner();
}

describe('ArrayDistinct', () => {
  it('refuses a repeated item and accepts distinct ones', () => {
    expect(validateSync(Object.assign(new Outer(), { ids: ['a', 'b', 'a'] })).map((e) => e.property)).toEqual(['ids']);
    expect(validateSync(Object.assign(new Outer(), { ids: ['a', 'b'] }))).toEqual([]);
  });

  it('checks 100,000 items with a Set (linear), not pairwise', () => {
    const ids = Array.from({ length: 100_000 }, (_, i) => `id-${i}`);
    const outer = Object.assign(new Outer(), { ids });
    // ArrayMaxSize fails; ArrayDistinct must not (and must not compare 5·10⁹ pairs).
    const errors = validateSync(outer);
    expect(Object.keys(errors[0].constraints ?? {})).toEqual(['arrayMaxSize']);
  });
});

describe('oversizedArrays', () => {
  it('finds arrays over their @ArrayMaxSize, in nested instances too, one detail each', () => {
    const outer = Object.assign(new Outer(), {
      ids: [1, 2, 3, 4],
      inner: Object.assign(new Inner(), { items: [1, 2, 3] }),
    });
    expect(oversizedArrays(outer, 'body')).toEqual([
      { field: 'ids', value: '[array of 4]', location: 'body', issue: 'must contain at most 3 elements' },
      { field: 'inner.items', value: '[array of 3]', location: 'body', issue: 'must contain at most 2 elements' },
    ]);
    expect(oversizedArrays(new Outer(), 'body')).toEqual([]);
  });
});
