import { getMetadataStorage } from 'class-validator';

type Lookup = ReturnType<typeof getMetadataStorage>['getTargetValidationMetadatas'];

let installed = false;

/**
 * class-validator looks up the rules of a class on every validation by filtering all its rules and
 * scanning every class that has rules (to find its ancestors), and allocates the arrays it builds:
 * the first class-validator function of the POST and batch profiles, 5 % of the batch's CPU
 * (typestack/class-validator#2686, still open). The rules of a class
 * are registered when it is defined, after its ancestors', and never change afterwards, so the
 * answer is kept per class and per arguments (groups, `always`, strictGroups).
 */
export function cacheValidationMetadata(): void {
  if (installed) return;
  installed = true;
  const storage = getMetadataStorage();
  const lookup: Lookup = storage.getTargetValidationMetadatas.bind(storage);
  const cache = new WeakMap<object, Map<string, ReturnType<Lookup>>>();
  storage.getTargetValidationMetadatas = (target, schema, always, strictGroups, groups) => {
    const key = `${schema}\u0000${always}\u0000${strictGroups}\u0000${groups?.join('\u0001') ?? ''}`;
    let perTarget = cache.get(target);
    if (!perTarget) cache.set(target, (perTarget = new Map()));
    let found = perTarget.get(key);
    if (!found) perTarget.set(key, (found = lookup(target, schema, always, strictGroups, groups)));
    return found;
  };
}
