/**
 * Network addresses (pure): reverse proxies named by address or range, as ADMIN_TRUSTED_PROXIES
 * takes them ("172.17.0.1", "172.17.0.0/16", "fd00::/8"): a Docker network's proxy may change
 * its address on every start, so a range is what such a user can write down.
 */
import { BlockList, isIP } from "node:net";

/** An IPv4 address as such: "::ffff:10.0.0.2" (IPv4 over an IPv6 socket) is "10.0.0.2". */
export const unmapped = (address: string) => address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, "");

interface Range {
  address: string;
  prefix: number;
  family: "ipv4" | "ipv6";
}

/** An address or a range in CIDR form; undefined when it is neither. */
export function parseRange(entry: string): Range | undefined {
  const [address = "", prefixText, ...rest] = unmapped(entry.trim()).split("/");
  const version = isIP(address);
  if (!version || rest.length) return undefined;
  const bits = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? bits : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!(prefix >= 0 && prefix <= bits)) return undefined;
  return { address, prefix, family: version === 4 ? "ipv4" : "ipv6" };
}

/** Whether an address is one of these (addresses or ranges; entries that are neither are left out). */
export function addressMatcher(entries: readonly string[]): (address: string) => boolean {
  const list = new BlockList();
  let any = false;
  for (const entry of entries) {
    const range = parseRange(entry);
    if (!range) continue;
    list.addSubnet(range.address, range.prefix, range.family);
    any = true;
  }
  return (address) => {
    const plain = unmapped(address.trim());
    const version = isIP(plain);
    return any && version !== 0 && list.check(plain, version === 4 ? "ipv4" : "ipv6");
  };
}
