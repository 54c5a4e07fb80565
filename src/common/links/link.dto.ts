/** A HATEOAS link: where to go from this resource and how. */
export class LinkDto {
  /** @example http://localhost:3000/v1/mails/3f0e5c1e-8a1b-4c55-9d7e-0b0f5e0b1c2d */
  href: string;
  /** @example self */
  rel: string;
  /** @example Get this mail */
  title: string;
  /** @example application/json */
  mediaType: string;
  /** @example GET */
  method: string;
  /** @example application/json */
  encType: string;
}
