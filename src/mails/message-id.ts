/** The domain of the sender address, for Message-IDs (`<delivery-id@domain>`). */
export function senderDomain(from: string): string {
  const address = /<([^<>]+)>\s*$/.exec(from)?.[1] ?? from;
  return address.split('@')[1]?.trim() || 'localhost';
}
